// `wims netguard ...`: forwards the words after `netguard` to the netguard module's own command
// parser.
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "netguard/command.h"

namespace wims::cli {

void register_netguard_command(CLI::App& app, CommandRegistry& registry) {
  auto args = std::make_shared<std::vector<std::string>>();
  CLI::App* cmd = app.add_subcommand("netguard",
                                     "nftables rules for the metadata endpoint: apply --mode "
                                     "restrict|redirect, remove, status, sidecar-init, "
                                     "watch (run `wims netguard --help`)");
  cmd->prefix_command();  // everything after `netguard` is the module's to parse, --help included
  cmd->set_help_flag();
  registry.add(cmd, [cmd, args] {
    std::vector<std::string> words = cmd->remaining();
    return netguard::run_netguard_command(words, std::cout, std::cerr);
  });
}

}  // namespace wims::cli
