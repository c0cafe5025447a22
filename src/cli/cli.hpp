#pragma once

#include <CLI/CLI.hpp>

#include "cli/config.hpp"

// The `berth` command line. main.cpp calls one add_* function per command group; each group
// lives in its own file and reaches the server only through sdk::Client.
//
// Extension points: a new group (ssh, port-forward, tasks) is a file with an
// `add_<group>_commands(CLI::App&, GlobalOptions&)` declared here, using connect() from
// config.hpp, resolve_workspace() from api.hpp and wait_for_build() from jobs.hpp.
namespace berth::cli {

// --url, --token and --global-config on the top-level app (also accepted after a subcommand).
void add_global_options(CLI::App& app, GlobalOptions& options);

// login, logout, whoami
void add_login_commands(CLI::App& app, GlobalOptions& options);
// templates push|list|versions list
void add_template_commands(CLI::App& app, GlobalOptions& options);
// create
void add_create_command(CLI::App& app, GlobalOptions& options);
// list, show, start, stop, restart, update, delete, logs, favorite, unfavorite, rename
void add_workspace_commands(CLI::App& app, GlobalOptions& options);
// schedule show|start|stop|extend
void add_schedule_commands(CLI::App& app, GlobalOptions& options);
// tasks create|list|status|logs|send|pause|resume|delete
void add_task_commands(CLI::App& app, GlobalOptions& options);
// ssh <workspace> [command...]
void add_ssh_command(CLI::App& app, GlobalOptions& options);
// port-forward <workspace> --tcp [ip:]local[:remote]...
void add_port_forward_command(CLI::App& app, GlobalOptions& options);
// provisioner list, provisioner keys create|list|delete
void add_provisioner_commands(CLI::App& app, GlobalOptions& options);

}  // namespace berth::cli
