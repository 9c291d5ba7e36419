// wims: workload identity metadata server. The entry point parses the command line with CLI11 and
// hands over to one subcommand; it is the only place (with the *_command.cc files) that knows
// concrete types.
#include <CLI/CLI.hpp>
#include <iostream>
#include <string>

#include "cli/commands.h"
#include "cli/exit_codes.h"

int main(int argc, char** argv) {
  using namespace wims::cli;
  CLI::App app{
      "wims: gives every Kubernetes pod its own short-lived cloud identity (GCP, AWS, Azure) from "
      "a node\n"
      "metadata server, backed by an embedded local cloud or by the real clouds.",
      "wims"};
  app.set_version_flag("--version", std::string("wims ") + WIMS_VERSION);
  app.require_subcommand(1);
  app.fallthrough(false);

  CommandRegistry registry;
  register_up_command(app, registry);
  register_token_command(app, registry);
  register_netguard_command(app, registry);
  register_node_command(app, registry);
  register_webhook_command(app, registry);
  register_sidecar_command(app, registry);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "wims: " << e.what() << "\nRun with --help for usage.\n";
    return kExitUsage;
  }
  return registry.run_selected(app);
}
