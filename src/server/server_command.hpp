#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace berth::server {

// Everything `berth server` can be told, by flag or BERTH_* variable.
struct ServerOptions {
  std::string http_address = "127.0.0.1:3000";
  std::string access_url;  // default: http://<bound address>
  std::string data_dir;    // default: $XDG_DATA_HOME/berth or ~/.local/share/berth
  std::string log_level = "info";
  std::size_t max_body_bytes = 10 * 1024 * 1024;
  std::size_t max_connections = 16384;  // agents, streams and requests alike
  unsigned http_threads = 0;            // threads serving requests; 0: max(4, 2 per core)
  int provisioner_daemons = 3;
  std::string autobuild_poll_interval = "1m";     // how often the lifecycle executor ticks
  std::string agent_stats_interval = "30s";       // how often agents report stats
  std::string replica_heartbeat_interval = "5s";  // hidden flag: tests shorten it
  std::string provisioner_job_hung_after = "5m";  // hidden flag: tests shorten it
  std::string default_quiet_hours_schedule = "CRON_TZ=UTC 0 0 * * *";
  std::string agent_binary_path;  // default: berth-agent next to this binary
  std::string postgres_url;       // PostgreSQL instead of SQLite when set
  std::string relay_address;      // how other replicas reach this one; default: access_url
  std::vector<std::string> proxy_trusted_headers;  // where a trusted proxy names the client
  std::vector<std::string> proxy_trusted_origins;  // the proxies believed (addresses, CIDRs)
  std::string dashboard_dir;           // the built web dashboard; default: dashboard/ next to it
  std::string terraform_module_dir;    // registry modules for templates; empty: none
  std::int64_t api_rate_limit = 512;   // requests per minute per caller and path; <= 0: none
  std::int64_t login_rate_limit = 60;  // password logins per minute per address; <= 0: none
  bool disable_rate_limits = false;    // --dangerous-disable-rate-limits
};

// Parses a Go-style duration ("90s", "1m", "500ms", "2h"); throws Error{invalid} naming `flag`.
std::chrono::milliseconds parse_duration(const std::string& text, const std::string& flag);

// The default for --data-dir on this machine.
std::string default_data_dir();

// Builds every part (store, services, API, listener), serves until SIGINT/SIGTERM, then shuts
// down in order: stop accepting, finish in-flight requests, close the database. Returns the
// process exit code.
int run_server(const ServerOptions& options);

}  // namespace berth::server
