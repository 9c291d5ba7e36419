// kube_index_bench: peak RSS of wims' pod index as the Reflector fills it from a Kubernetes API
// server.
//
//   kube_index_bench --service-accounts 100000 --pods-on-node 110
//   kube_index_bench --service-accounts 1000 --pods-on-node 10000
//
// The fake API server runs in a forked child process, so the figures are the client side only: the
// process that lists and watches pods (spec.nodeName) and service accounts (paged, only referenced
// ones kept), builds the index and publishes a snapshot. Prints one line of JSON.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "fakes/fake_kube_api_server.h"
#include "kube/api_client.h"
#include "kube/pod_index.h"
#include "kube/reflector.h"

namespace {

long peak_rss_kib() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

long current_rss_kib() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  long pages = 0, resident = 0;
  if (f != nullptr) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

std::string ip_for(int i) {
  return "10." + std::to_string(64 + i / 65536) + "." + std::to_string((i / 256) % 256) + "." +
         std::to_string(i % 256);
}

// The child: a fake API server with `accounts` service accounts in 100 namespaces, `pods` on node-1
// (each using one of those accounts) and as many elsewhere; writes the URL to `out` and serves
// until killed.
[[noreturn]] void serve(int out, int accounts, int pods) {
  wims::fakes::FakeKubeApiServer server;
  for (int i = 0; i < accounts; ++i) {
    server.upsert_service_account(wims::fakes::FakeKubeApiServer::make_service_account(
        "ns-" + std::to_string(i % 100), "sa-" + std::to_string(i), "uid-sa-" + std::to_string(i),
        {{"iam.gke.io/gcp-service-account",
          "sa-" + std::to_string(i) + "@p.iam.gserviceaccount.com"}}));
  }
  for (int i = 0; i < pods; ++i) {
    const int sa = i % accounts;
    wims::fakes::FakePodSpec spec{.namespace_name = "ns-" + std::to_string(sa % 100),
                                  .name = "pod-" + std::to_string(i),
                                  .uid = "uid-pod-" + std::to_string(i),
                                  .node_name = "node-1",
                                  .service_account = "sa-" + std::to_string(sa),
                                  .ips = {ip_for(i)},
                                  .labels = {{"app", "bench"}}};
    server.upsert_pod(spec);
  }
  if (!server.start().ok()) std::_Exit(2);
  std::string url = server.url() + "\n";
  if (write(out, url.data(), url.size()) < 0) std::_Exit(2);
  close(out);
  pause();
  std::_Exit(0);
}

}  // namespace

int main(int argc, char** argv) {
  int accounts = 100000, pods = 110;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--service-accounts") == 0) accounts = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--pods-on-node") == 0) pods = std::atoi(argv[i + 1]);
  }
  if (accounts < 1 || pods < 0) {
    std::fprintf(stderr, "usage: kube_index_bench --service-accounts N --pods-on-node P\n");
    return 2;
  }
  int fds[2];
  if (pipe(fds) != 0) return 2;
  pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    serve(fds[1], accounts, pods);
  }
  close(fds[1]);
  std::string url;
  char c;
  while (read(fds[0], &c, 1) == 1 && c != '\n') url += c;
  close(fds[0]);
  if (url.empty()) {
    std::fprintf(stderr, "the fake API server did not start\n");
    return 1;
  }
  const long baseline = current_rss_kib();
  auto client = wims::kube::ApiClient::create(wims::kube::KubeConfig{.server = url});
  wims::config::World identity;
  identity.project.id = "p";
  identity.project.number = 1;
  wims::kube::PodIndex index(identity);
  wims::kube::Reflector reflector(**client, index, {.node_name = "node-1", .page_size = 500});
  const auto start = std::chrono::steady_clock::now();
  reflector.start();
  const bool synced = reflector.wait_synced(absl::Minutes(10));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  auto snapshot = index.snapshot();
  std::printf(
      "{\"service_accounts_in_cluster\":%d,\"pods_on_node\":%d,\"synced\":%s,\"sync_seconds\":%.2f,"
      "\"indexed_pods\":%zu,\"indexed_addresses\":%zu,\"kept_service_accounts\":%zu,"
      "\"baseline_rss_kib\":%ld,\"peak_rss_kib\":%ld}\n",
      accounts, pods, synced ? "true" : "false", seconds, snapshot->pod_count(),
      snapshot->address_count(), snapshot->service_account_count(), baseline, peak_rss_kib());
  reflector.stop();
  kill(child, SIGTERM);
  waitpid(child, nullptr, 0);
  return synced ? 0 : 1;
}
