// The `wims` subcommands. Each register_* function adds its CLI11 subcommand (options bound to a
// struct it owns inside the registry) and a runner; after parsing, CommandRegistry runs the one
// that was selected. Used only from main(); single-threaded until a runner starts its services.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <utility>
#include <vector>

namespace wims::cli {

class CommandRegistry {
 public:
  void add(CLI::App* subcommand, std::function<int()> run) {
    commands_.emplace_back(subcommand, std::move(run));
  }
  // Runs the parsed subcommand; returns its exit code.
  int run_selected(const CLI::App& app) const;

 private:
  std::vector<std::pair<CLI::App*, std::function<int()>>> commands_;
};

void register_up_command(CLI::App& app, CommandRegistry& registry);
void register_token_command(CLI::App& app, CommandRegistry& registry);
void register_netguard_command(CLI::App& app, CommandRegistry& registry);
void register_node_command(CLI::App& app, CommandRegistry& registry);
void register_webhook_command(CLI::App& app, CommandRegistry& registry);
void register_sidecar_command(CLI::App& app, CommandRegistry& registry);

}  // namespace wims::cli
