// The composition root: parses the command line and hands off to the command's library.
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>

#include "agent/agent.hpp"
#include "agentapi/agentapi_command.hpp"
#include "cli/cli.hpp"
#include "common/error.hpp"
#include "server/server_command.hpp"

namespace {

void add_server_command(CLI::App& app, berth::server::ServerOptions& options, int& exit_code) {
  auto* cmd =
      app.add_subcommand("server", "Start the Berth control plane (API, scheduler, provisioners).");
  cmd->add_option("--http-address", options.http_address,
                  "HTTP bind address (host:port; port 0 picks one)")
      ->envname("BERTH_HTTP_ADDRESS")
      ->capture_default_str();
  cmd->add_option("--access-url", options.access_url,
                  "The URL clients and workspaces reach this server at")
      ->envname("BERTH_ACCESS_URL");
  cmd->add_option("--data-dir", options.data_dir,
                  "Where the SQLite database and workspace files live")
      ->envname("BERTH_DATA_DIR");
  cmd->add_option("--log-level", options.log_level, "trace, debug, info, warn, error or off")
      ->envname("BERTH_LOG_LEVEL")
      ->capture_default_str();
  cmd->add_option("--max-body-bytes", options.max_body_bytes, "Largest request body accepted")
      ->envname("BERTH_MAX_BODY_BYTES")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 30));
  cmd->add_option("--max-connections", options.max_connections,
                  "Most concurrent client connections")
      ->envname("BERTH_MAX_CONNECTIONS")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20));
  cmd->add_option("--provisioner-daemons", options.provisioner_daemons,
                  "In-process provisioner daemons (parallel template imports and builds)")
      ->envname("BERTH_PROVISIONER_DAEMONS")
      ->capture_default_str()
      ->check(CLI::Range(0, 64));
  cmd->add_option("--autobuild-poll-interval", options.autobuild_poll_interval,
                  "How often workspace schedules are evaluated (e.g. 1m, 30s)")
      ->envname("BERTH_AUTOBUILD_POLL_INTERVAL")
      ->capture_default_str();
  cmd->add_option("--agent-stats-refresh-interval", options.agent_stats_interval,
                  "How often agents report stats (open sessions keep workspaces running)")
      ->envname("BERTH_AGENT_STATS_REFRESH_INTERVAL")
      ->capture_default_str();
  cmd->add_option("--default-quiet-hours-schedule", options.default_quiet_hours_schedule,
                  "Users' quiet hours unless they set their own: when templates' autostop "
                  "requirements stop workspaces (daily cron, CRON_TZ= prefix for a zone)")
      ->envname("BERTH_QUIET_HOURS_DEFAULT_SCHEDULE")
      ->capture_default_str();
  cmd->callback([&options, &exit_code] { exit_code = berth::server::run_server(options); });
}

void add_agentapi_command(CLI::App& app, berth::agentapi::AgentapiOptions& options,
                          int& exit_code) {
  auto* cmd = app.add_subcommand(
      "agentapi", "Run a terminal program (an AI coding CLI) and serve coder/agentapi's HTTP API.");
  cmd->add_option("--port,-p", options.port, "Port on 127.0.0.1 (0 picks a free one)")
      ->envname("AGENTAPI_PORT")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--initial-prompt,-I", options.initial_prompt,
                  "Typed into the program once its screen is first stable")
      ->envname("AGENTAPI_INITIAL_PROMPT");
  cmd->add_option("--status-slug", options.status_slug,
                  "App slug to report working/idle under (needs CODER_AGENT_URL and "
                  "CODER_AGENT_TOKEN)")
      ->envname("CODER_MCP_APP_STATUS_SLUG");
  cmd->add_option("--stable-after-ms", options.stable_after_ms,
                  "The screen is stable once unchanged for this long")
      ->capture_default_str()
      ->check(CLI::Range(10, 600000));
  cmd->add_option("--term-width,-W", options.term_width, "Terminal columns")
      ->capture_default_str()
      ->check(CLI::Range(10, 1000));
  cmd->add_option("--term-height,-H", options.term_height, "Terminal rows")
      ->capture_default_str()
      ->check(CLI::Range(10, 10000));
  cmd->add_option("--log-level", options.log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();
  cmd->add_option("command", options.command, "The program to run, after --")->required();
  cmd->callback([&options, &exit_code] { exit_code = berth::agentapi::run_agentapi(options); });
}

void add_agent_command(CLI::App& app, berth::agent::AgentOptions& options, int& exit_code) {
  auto* cmd = app.add_subcommand("agent", "Run the workspace agent (inside a workspace).");
  // CLI11 keeps one envname per option; BERTH_AGENT_URL is read in the callback.
  cmd->add_option("--url", options.url, "The Berth server's URL")->envname("CODER_AGENT_URL");
  cmd->add_option("--log-level", options.log_level, "trace, debug, info, warn, error or off")
      ->envname("BERTH_LOG_LEVEL")
      ->capture_default_str();
  cmd->add_option("--pty-timeout", options.pty_timeout,
                  "How long a terminal nobody is attached to lives on (e.g. 5m, 30s)")
      ->envname("BERTH_AGENT_PTY_TIMEOUT")
      ->capture_default_str();
  cmd->callback([&options, &exit_code] {
    // The token only from the environment: a command line is visible to every process.
    for (const char* name : {"CODER_AGENT_TOKEN", "BERTH_AGENT_TOKEN"})
      if (const char* token = std::getenv(name); token && *token && options.token.empty())
        options.token = token;
    if (options.url.empty())
      if (const char* url = std::getenv("BERTH_AGENT_URL")) options.url = url;
    exit_code = berth::agent::run_agent(options);
  });
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Berth: cloud development environments and AI coding tasks, speaking Coder's API"};
  app.require_subcommand(1);
  berth::server::ServerOptions server_options;
  int exit_code = 0;
  add_server_command(app, server_options, exit_code);
  berth::agent::AgentOptions agent_options;
  agent_options.version = "v" BERTH_PROJECT_VERSION;
  add_agent_command(app, agent_options, exit_code);
  berth::agentapi::AgentapiOptions agentapi_options;
  add_agentapi_command(app, agentapi_options, exit_code);
  berth::cli::GlobalOptions cli_options;
  berth::cli::add_global_options(app, cli_options);
  berth::cli::add_login_commands(app, cli_options);
  berth::cli::add_template_commands(app, cli_options);
  berth::cli::add_create_command(app, cli_options);
  berth::cli::add_workspace_commands(app, cli_options);
  berth::cli::add_schedule_commands(app, cli_options);
  berth::cli::add_task_commands(app, cli_options);
  berth::cli::add_ssh_command(app, cli_options);
  berth::cli::add_port_forward_command(app, cli_options);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const berth::Error& e) {
    std::fprintf(stderr, "berth: %s%s%s\n", e.message().c_str(), e.detail().empty() ? "" : " ",
                 e.detail().c_str());
    return 1;
  }
  return exit_code;
}
