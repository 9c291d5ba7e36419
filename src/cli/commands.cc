#include "cli/commands.h"

#include "cli/exit_codes.h"

namespace wims::cli {

int CommandRegistry::run_selected(const CLI::App&) const {
  for (const auto& [subcommand, run] : commands_) {
    if (subcommand->parsed()) return run();
  }
  return kExitUsage;
}

}  // namespace wims::cli
