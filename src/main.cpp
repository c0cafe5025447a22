// The composition root: parses the command line and hands off to the command's library.
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>

#include "agent_commands.hpp"
#include "cli/cli.hpp"
#include "common/error.hpp"
#include "provisionerd/provisionerd_command.hpp"
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
  cmd->add_option("--http-threads", options.http_threads,
                  "Threads serving HTTP requests (0: 2 per core, at least 4)")
      ->envname("BERTH_HTTP_THREADS")
      ->capture_default_str()
      ->check(CLI::Range(0u, 1024u));
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
  cmd->add_option("--agent-binary-path", options.agent_binary_path,
                  "The statically linked agent served to workspaces at /bin/berth-linux-amd64 "
                  "(default: berth-agent next to this binary)")
      ->envname("BERTH_AGENT_BINARY_PATH");
  // Coder's variable, unless the flag or Berth's own variable says otherwise.
  if (const char* coder_url = std::getenv("CODER_PG_CONNECTION_URL"))
    options.postgres_url = coder_url;
  cmd->add_option("--postgres-url", options.postgres_url,
                  "A PostgreSQL database to keep everything in instead of the SQLite file in "
                  "--data-dir (libpq URL, e.g. postgres://berth@db/berth); several servers may "
                  "share it (env also CODER_PG_CONNECTION_URL)")
      ->envname("BERTH_PG_CONNECTION_URL");
  // Coder's variables, as for the database URL.
  auto split_list = [](const char* text) {
    std::vector<std::string> out;
    std::string item;
    for (const char* c = text; *c; ++c)
      if (*c == ',') {
        out.push_back(std::exchange(item, {}));
      } else {
        item.push_back(*c);
      }
    out.push_back(item);
    return out;
  };
  if (const char* coder_headers = std::getenv("CODER_PROXY_TRUSTED_HEADERS"))
    options.proxy_trusted_headers = split_list(coder_headers);
  if (const char* coder_origins = std::getenv("CODER_PROXY_TRUSTED_ORIGINS"))
    options.proxy_trusted_origins = split_list(coder_origins);
  cmd->add_option("--proxy-trusted-headers", options.proxy_trusted_headers,
                  "Headers a trusted reverse proxy names the client in (e.g. X-Forwarded-For); "
                  "env also CODER_PROXY_TRUSTED_HEADERS")
      ->envname("BERTH_PROXY_TRUSTED_HEADERS")
      ->delimiter(',');
  cmd->add_option("--proxy-trusted-origins", options.proxy_trusted_origins,
                  "Addresses or networks of the reverse proxies whose --proxy-trusted-headers "
                  "are believed (e.g. 10.0.0.0/8); env also CODER_PROXY_TRUSTED_ORIGINS")
      ->envname("BERTH_PROXY_TRUSTED_ORIGINS")
      ->delimiter(',');
  cmd->add_option("--relay-address", options.relay_address,
                  "The URL the other replicas on the same database reach this server at "
                  "(default: http://<--http-address> when that is one address, else "
                  "--access-url); requests for an agent connected there are relayed to it")
      ->envname("BERTH_RELAY_ADDRESS");
  // Coder's 5s; tests shorten it to see a killed replica drop out quickly.
  cmd->add_option("--replica-heartbeat-interval", options.replica_heartbeat_interval,
                  "How often this replica tells the database it is alive")
      ->envname("BERTH_REPLICA_HEARTBEAT_INTERVAL")
      ->group("");
  // Coder's 5m; tests shorten it to see a killed provisioner daemon's job failed quickly.
  cmd->add_option("--provisioner-job-hung-after", options.provisioner_job_hung_after,
                  "How long a running job may go without a heartbeat before it is failed")
      ->envname("BERTH_PROVISIONER_JOB_HUNG_AFTER")
      ->group("");
  cmd->add_option("--dashboard-dir", options.dashboard_dir,
                  "The built web dashboard served at / (default: dashboard/ next to this "
                  "binary; none there: the API alone)")
      ->envname("BERTH_DASHBOARD_DIR");
  cmd->add_option("--api-rate-limit", options.api_rate_limit,
                  "Requests per minute each user (or address, when signed out) may send to one "
                  "API path; 0 or less: no limit")
      ->envname("BERTH_API_RATE_LIMIT")
      ->capture_default_str();
  cmd->add_option("--login-rate-limit", options.login_rate_limit,
                  "Password logins per minute from one address; 0 or less: no limit")
      ->envname("BERTH_LOGIN_RATE_LIMIT")
      ->capture_default_str();
  cmd->add_flag("--dangerous-disable-rate-limits", options.disable_rate_limits,
                "Turns every rate limit off (load tests)")
      ->envname("BERTH_DANGEROUS_DISABLE_RATE_LIMITS");
  cmd->add_option("--terraform-module-dir", options.terraform_module_dir,
                  "Where templates' registry modules are found: "
                  "<dir>/registry.coder.com/coder/code-server/coder/*.tf")
      ->envname("BERTH_TERRAFORM_MODULE_DIR");
  cmd->callback([&options, &exit_code] { exit_code = berth::server::run_server(options); });
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
  berth::add_agent_command(app, agent_options, exit_code);
  berth::agentapi::AgentapiOptions agentapi_options;
  berth::add_agentapi_command(app, agentapi_options, exit_code);
  berth::add_stat_command(app);
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
  berth::cli::add_provisioner_commands(app, cli_options);
  berth::provisionerd::add_provisionerd_command(app, cli_options, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; a usage error exits 1, as Coder's CLI does.
    return app.exit(e) == 0 ? 0 : 1;
  } catch (const berth::Error& e) {
    std::fprintf(stderr, "berth: %s%s%s\n", e.message().c_str(), e.detail().empty() ? "" : " ",
                 e.detail().c_str());
    return 1;
  }
  return exit_code;
}
