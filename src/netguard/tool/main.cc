// wims-netguard: a standalone driver for the netguard commands (see netguard/command.h), used by
// the network-namespace tests and usable before/without the main `wims` binary.
#include <iostream>
#include <string>
#include <vector>

#include "common/logging.h"
#include "netguard/command.h"

int main(int argc, char** argv) {
  if (absl::Status logging = wims::init_logging("info"); !logging.ok()) {
    std::cerr << logging.message() << "\n";
    return 1;
  }
  std::vector<std::string> args(argv + 1, argv + argc);
  return wims::netguard::run_netguard_command(std::move(args), std::cout, std::cerr);
}
