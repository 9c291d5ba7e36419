// The `netguard` command line, so that the main `wims` CLI can forward `wims netguard ...` verbatim
// and the standalone `wims-netguard` tool shares the same parser:
//
//   netguard apply --mode restrict|redirect [--port P] [--family both|ipv4|ipv6] [--table T]
//   netguard remove [--table T]
//   netguard status [--json] [--table T]
//   netguard sidecar-init --port P --exempt-uid U [--family ...]
//   netguard watch --mode restrict|redirect|sidecar [--port P] [--exempt-uid U] [--interval 30s]
//   [--no-events]
//       (apply, then reconcile until SIGINT/SIGTERM; the `wims up`/`wims node` wiring embeds a
//       Reconciler instead)
//
//   int code = run_netguard_command({"status", "--json"}, std::cout, std::cerr);
//
// Exit codes: 0 success, 1 the operation failed (message on `err`), 2 usage error. Blocking; call
// from the main thread. `watch` blocks SIGINT/SIGTERM in the calling thread while it runs.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace wims::netguard {

// `args` are the words after "netguard" (no program name).
int run_netguard_command(std::vector<std::string> args, std::ostream& out, std::ostream& err);

}  // namespace wims::netguard
