#include "server/server_command.hpp"

#include <sys/resource.h>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "api/agent_app_http.hpp"
#include "api/deps.hpp"
#include "api/routes.hpp"
#include "coderd/agents.hpp"
#include "coderd/api_keys.hpp"
#include "coderd/daemon_polls.hpp"
#include "coderd/lifecycle_executor.hpp"
#include "coderd/organizations.hpp"
#include "coderd/provisioner_daemons.hpp"
#include "coderd/provisioner_jobs.hpp"
#include "coderd/quiet_hours.hpp"
#include "coderd/replicas.hpp"
#include "coderd/tasks.hpp"
#include "coderd/templates.hpp"
#include "coderd/users.hpp"
#include "coderd/workspaces.hpp"
#include "common/clock.hpp"
#include "common/error.hpp"
#include "common/uuid.hpp"
#include "http/server.hpp"
#include "http/trusted_proxies.hpp"
#include "provisioner/daemon.hpp"
#include "provisioner/local/local_provisioner.hpp"
#include "provisioner/reaper.hpp"
#include "store/postgres/postgres_pubsub.hpp"
#include "store/postgres/postgres_store.hpp"
#include "store/pubsub.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "web/dashboard.hpp"

namespace berth::server {

namespace {

// The path as the access log may show it: a provisioner key is a secret, and Coder's route
// for reading one has it in the path.
std::string loggable_path(const std::string& path) {
  constexpr std::string_view kKeyRoute = "/api/v2/provisionerkeys/";
  if (!path.starts_with(kKeyRoute)) return path;
  return std::string(kKeyRoute) + "[redacted]";
}

void log_request(const http::Request& request, int status, std::size_t bytes,
                 std::chrono::microseconds elapsed) {
  spdlog::info("{} {} {} {}B {:.3f}ms {}", request.method, loggable_path(request.path), status,
               bytes, double(elapsed.count()) / 1000.0, request.remote_address);
}

unsigned worker_threads(unsigned configured) {
  if (configured) return configured;
  // Handlers wait only on the database (task app calls and streams wait without a thread), so
  // a few threads per core suffice; more only switch contexts: on 2 cores, 4 threads served
  // /users/me at 32,617 req/s where 32 served 17,373 (bench/README.md).
  return std::max(4u, std::thread::hardware_concurrency() * 2);
}

// This executable's path, so that agent init scripts run the same Berth.
std::string self_path() {
  std::error_code ec;
  auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("berth") : path.string();
}

// This data directory's lasting name (made on first start): its daemons carry it, so that a
// restart on a shared database fails its own interrupted jobs and no other replica's.
std::string instance_name(const std::string& data_dir) {
  auto path = data_dir + "/instance-id";
  std::string id;
  if (std::ifstream in(path); std::getline(in, id) && Uuid::parse(id)) return id;
  id = Uuid::random_v4().to_string();
  std::ofstream(path) << id << "\n";
  return id;
}

// PostgreSQL when a URL is given, else the SQLite file in the data directory.
std::unique_ptr<store::Store> open_store(const ServerOptions& options,
                                         const std::string& data_dir) {
  if (options.postgres_url.empty())
    return std::make_unique<store::sqlite::SqliteStore>(data_dir + "/berth.db");
  auto store = store::postgres::open_store(options.postgres_url);
  spdlog::info("database: PostgreSQL");
  return store;
}

// With PostgreSQL, LISTEN/NOTIFY, so that replicas on the same database see each other's
// changes; else in-process.
std::unique_ptr<store::Pubsub> open_pubsub(const ServerOptions& options, const Clock& clock) {
  if (options.postgres_url.empty()) return std::make_unique<store::MemoryPubsub>();
  return std::make_unique<store::postgres::PostgresPubsub>(options.postgres_url, clock);
}

// The web dashboard, or nullptr when it was not built (no node at build time): the API serves
// alone then.
std::shared_ptr<const web::Dashboard> load_dashboard(const std::string& configured) {
  auto dir = configured.empty() ? std::filesystem::path(self_path()).parent_path() / "dashboard"
                                : std::filesystem::path(configured);
  auto dashboard = web::Dashboard::load(dir);
  if (dashboard)
    spdlog::info("serving the web dashboard from {}", dir.string());
  else
    spdlog::info("no web dashboard served: {} holds no index.html", dir.string());
  return dashboard;
}

http::Handler dashboard_handler(std::shared_ptr<const web::Dashboard> dashboard) {
  if (!dashboard) return {};
  return [dashboard](http::Request& r) { return dashboard->serve(r); };
}

// Each connection is a file descriptor: the soft limit (often 1024) goes up to the hard one,
// as far as the connection limit and the server's own files need.
void raise_open_files_limit(std::size_t max_connections) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  rlim_t wanted = static_cast<rlim_t>(max_connections) + 1024;
  if (limit.rlim_max != RLIM_INFINITY && wanted > limit.rlim_max) wanted = limit.rlim_max;
  if (wanted > limit.rlim_cur) {
    limit.rlim_cur = wanted;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
  if (limit.rlim_cur < static_cast<rlim_t>(max_connections) + 64)
    spdlog::warn("open files are limited to {}: fewer than --max-connections {} can connect",
                 static_cast<std::uint64_t>(limit.rlim_cur), max_connections);
}

// The handler, seeing the client a trusted reverse proxy names instead of the proxy (rate
// limits, audit, the access log, the app proxy's X-Forwarded-For).
http::Handler behind_proxies(http::Handler handler,
                             std::shared_ptr<const http::TrustedProxies> proxies) {
  if (proxies->empty()) return handler;
  return [handler = std::move(handler), proxies](http::Request& request) {
    proxies->apply(request);
    return handler(request);
  };
}

// How long a shutdown waits for the builds running on this server's daemons to finish before
// it cancels them (systemd's default stop timeout is 90 s).
constexpr std::chrono::seconds kBuildDrainGrace{30};

// How the other replicas reach this one unless --relay-address says: the address it listens
// on, when that is one address; the access URL when it listens on every interface.
std::string default_relay_address(const std::string& bound, const std::string& access_url) {
  bool wildcard = bound.starts_with("0.0.0.0:") || bound.starts_with("[::]:");
  return wildcard ? access_url : "http://" + bound;
}

// The reaper's limits: a running job silent for `hung_after` fails (Coder's 5 minutes; tests
// shorten it), checked a few times within that; a job no daemon took fails after 30 minutes.
provisioner::JobReaper::Settings job_reaper_settings(std::chrono::milliseconds hung_after) {
  provisioner::JobReaper::Settings settings;
  settings.hung_after = std::max(std::chrono::seconds(1),
                                 std::chrono::duration_cast<std::chrono::seconds>(hung_after));
  settings.interval =
      std::clamp(settings.hung_after / 3, std::chrono::seconds(1), settings.interval);
  return settings;
}

}  // namespace

std::chrono::milliseconds parse_duration(const std::string& text, const std::string& flag) {
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  auto unit = text.substr(used);
  double ms = unit == "ms"  ? 1
              : unit == "s" ? 1000
              : unit == "m" ? 60000
              : unit == "h" ? 3600000
                            : -1;
  if (used == 0 || ms < 0 || value <= 0)
    throw Error{ErrorCode::invalid, "Invalid duration \"" + text + "\" for " + flag + ".",
                "Use a number with a unit: ms, s, m or h (e.g. 30s, 1m)."};
  return std::chrono::milliseconds(std::int64_t(value * ms));
}

std::string default_data_dir() {
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg)
    return std::string(xdg) + "/berth";
  if (const char* home = std::getenv("HOME"); home && *home)
    return std::string(home) + "/.local/share/berth";
  return "berth-data";
}

int run_server(const ServerOptions& options) {
  auto poll_interval = parse_duration(options.autobuild_poll_interval, "--autobuild-poll-interval");
  auto stats_interval =
      parse_duration(options.agent_stats_interval, "--agent-stats-refresh-interval");
  auto heartbeat_interval =
      parse_duration(options.replica_heartbeat_interval, "--replica-heartbeat-interval");
  auto reaper_settings = job_reaper_settings(
      parse_duration(options.provisioner_job_hung_after, "--provisioner-job-hung-after"));
  // Checked before anything is opened, like the durations: a bad entry only prints an error.
  auto proxies = std::make_shared<const http::TrustedProxies>(options.proxy_trusted_headers,
                                                              options.proxy_trusted_origins);
  auto level = spdlog::level::from_str(options.log_level);
  if (level == spdlog::level::off && options.log_level != "off")
    throw Error{ErrorCode::invalid, "Unknown --log-level \"" + options.log_level +
                                        "\"; use trace, debug, info, warn, error or off."};
  // Logs go to stderr; stdout carries only the lines scripts read (the listener address).
  spdlog::set_default_logger(spdlog::stderr_logger_mt("berth"));
  spdlog::set_level(level);

  std::error_code ec;
  std::string data_dir = std::filesystem::absolute(
                             options.data_dir.empty() ? default_data_dir() : options.data_dir, ec)
                             .lexically_normal()
                             .string();
  if (!data_dir.empty() && data_dir.back() == '/') data_dir.pop_back();
  std::filesystem::create_directories(data_dir, ec);
  if (ec)
    throw Error{ErrorCode::unavailable, "Cannot create the data directory " + data_dir + ".",
                ec.message()};

  // Construction order is dependency order; destruction runs in reverse, so the database
  // closes last, after the listener and the daemons have stopped.
  SystemClock clock;
  auto store_owner = open_store(options, data_dir);
  store::Store& store = *store_owner;
  auto pubsub_owner = open_pubsub(options, clock);
  // Every notification leaves once what it announces is committed.
  store::CommitOrderedPubsub pubsub(*pubsub_owner, store);
  coderd::initialize_deployment(store, clock);
  coderd::set_default_quiet_hours(store, options.default_quiet_hours_schedule);
  coderd::ApiKeys api_keys(store, pubsub, clock, coderd::TokenPolicy{});
  coderd::Users users(store, clock, api_keys);
  coderd::JobQueue jobs(store, pubsub, clock);
  coderd::Templates templates(store, jobs, clock);
  coderd::Workspaces workspaces(store, pubsub, jobs, clock);
  coderd::Agents agents(store, pubsub, clock);
  agents.set_stats_interval(stats_interval);
  coderd::Tasks tasks(store, pubsub, workspaces, clock);
  coderd::AgentRegistry agent_registry;
  // Task app requests (send, logs) wait for the agent without a thread: bounded by their own
  // cap, not by the handler threads.
  api::AgentAppHttpClient app_http(agent_registry);
  // A job still running was left by this server's previous life when its daemons had this
  // data directory's name. On SQLite this process is the database's only user: any running job
  // is. On a shared PostgreSQL database the others may be other replicas', running now; a job
  // of a replica that vanished is failed by the reaper once its heartbeats stop.
  auto daemon_suffix = "@" + instance_name(data_dir);
  if (auto n = jobs.fail_interrupted_jobs(options.postgres_url.empty() ? "" : daemon_suffix))
    spdlog::warn("failed {} provisioner job(s) left running by the previous process", n);

  // External provisioner daemons: their keys, and their long polls, which wait less than the
  // reaper's limit so that a daemon waiting on its job's heartbeat never looks hung.
  coderd::ProvisionerKeys provisioner_keys(store, clock);
  coderd::DaemonPolls daemon_polls(
      pubsub, clock,
      std::min<std::chrono::milliseconds>(coderd::DaemonPolls::kDefaultMaxWait,
                                          reaper_settings.hung_after / 4));

  http::ServerLimits limits;
  limits.max_body_bytes = options.max_body_bytes;
  limits.max_connections = options.max_connections;
  // Every agent holds one stream (its WebSocket) for as long as it runs: streams are bounded by
  // the connection limit, not by a smaller one of their own.
  limits.max_streams = options.max_connections;
  raise_open_files_limit(options.max_connections);
  auto dashboard = load_dashboard(options.dashboard_dir);
  api::Deps deps{
      store,
      clock,
      api_keys,
      users,
      pubsub,
      jobs,
      templates,
      workspaces,
      {BERTH_VERSION, "", coderd::deployment_id(store)},
      tasks,
      app_http,
      agents,
      agent_registry,
      api::AgentBinary::load(
          options.agent_binary_path.empty()
              ? std::filesystem::path(self_path()).parent_path().append("berth-agent").string()
              : options.agent_binary_path),
      options.disable_rate_limits
          ? nullptr
          : std::make_shared<api::RateLimits>(
                clock, api::RateLimitSettings{options.api_rate_limit, options.login_rate_limit})};
  // Relays to other replicas run on their own event loop; it outlives the listener, whose
  // tunnels use it.
  http::OutboundIo outbound;
  deps.outbound = &outbound;
  deps.provisioner_keys = &provisioner_keys;
  deps.daemon_polls = &daemon_polls;
  http::Server server(
      behind_proxies(api::make_api_handler(deps, dashboard_handler(dashboard)), proxies), limits,
      log_request, worker_threads(options.http_threads));
  std::string bound = server.listen(options.http_address);
  deps.build.access_url = options.access_url.empty() ? "http://" + bound : options.access_url;
  // This server among the replicas on the database (GET /replicas).
  coderd::ReplicaSettings replica_settings;
  replica_settings.relay_address = options.relay_address.empty()
                                       ? default_relay_address(bound, deps.build.access_url)
                                       : options.relay_address;
  replica_settings.version = BERTH_VERSION;
  replica_settings.heartbeat_interval = heartbeat_interval;
  coderd::Replicas replicas(store, clock, replica_settings);
  replicas.start();
  deps.replicas = &replicas;

  std::filesystem::create_directories(data_dir + "/jobs");
  provisioner::local::LocalProvisioner local(deps.build.access_url, self_path(),
                                             data_dir + "/jobs");
  if (auto binary = deps.agent_binary)
    local.set_agent_sha256([binary] {
      try {
        return binary->sha256_hex();
      } catch (const Error& e) {
        spdlog::warn("workspace agent: {} {}", e.message(), e.detail());
        return std::string();  // init scripts then skip the check; the download answers 503
      }
    });
  local.set_module_dir(options.terraform_module_dir);
  provisioner::DaemonPool daemons(jobs, store, pubsub, clock, local, options.provisioner_daemons,
                                  data_dir + "/workspaces", daemon_suffix);
  daemons.reconcile_workspaces();
  daemons.start();
  provisioner::JobReaper reaper(jobs, clock, reaper_settings);
  reaper.start();
  coderd::LifecycleExecutor executor(store, workspaces, clock, replicas.id().to_string());
  coderd::LifecycleTicker ticker(executor, clock, poll_interval);
  ticker.start();

  std::printf("Started HTTP listener at http://%s\n", bound.c_str());
  if (dashboard) std::printf("View the Web UI: %s\n", deps.build.access_url.c_str());
  std::fflush(stdout);
  spdlog::info("data directory: {}", data_dir);

  // The moment shutdown begins: out of the replica list, so that the others stop relaying here
  // while this one's agents reconnect to them; external daemons' waiting polls answered at once
  // (no job), so that the drain does not wait them out; the built-in daemons take no new job
  // (another replica's, or a daemon elsewhere, takes it).
  server.on_stop([&replicas, &daemon_polls, &daemons] {
    replicas.stop();
    daemon_polls.stop();
    daemons.begin_drain();
  });
  server.run(/*stop_on_signals=*/true);
  replicas.stop();
  daemon_polls.stop();
  spdlog::info("HTTP server stopped; stopping provisioner daemons");
  ticker.stop();
  reaper.stop();
  // Builds running here finish, up to the grace period, rather than fail.
  daemons.drain(kBuildDrainGrace);
  spdlog::info("closing the database");
  return 0;
}

}  // namespace berth::server
