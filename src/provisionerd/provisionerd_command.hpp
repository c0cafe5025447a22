#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "cli/config.hpp"

namespace berth::provisionerd {

// What `berth provisionerd start` can be told, by flag or environment.
struct ProvisionerdOptions {
  std::string key;                // the provisioner key (CODER_PROVISIONER_DAEMON_KEY)
  std::string name;               // default: this host's name
  std::vector<std::string> tags;  // k=v; must be the key's, which are fixed
  int concurrency = 1;            // jobs run at once, each by a daemon of its own
  std::string data_dir;           // workspaces' local files and job scratch space
  std::string log_level = "info";
};

// `berth provisionerd start`: an external provisioner daemon. It takes jobs from the server at
// --url (the global option) with a provisioner key, runs them with the same local provisioner
// the server uses, streams their logs and heartbeats, honours cancellation, keeps going while
// the server restarts, and stops on SIGINT/SIGTERM (a running job fails as canceled).
void add_provisionerd_command(CLI::App& app, cli::GlobalOptions& global, int& exit_code);

// Runs the daemon until SIGINT or SIGTERM; returns the exit code. Throws Error{invalid} for bad
// options or a --tag that is not the key's.
int run_provisionerd(const ProvisionerdOptions& options, const cli::GlobalOptions& global);

}  // namespace berth::provisionerd
