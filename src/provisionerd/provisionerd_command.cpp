#include "provisionerd/provisionerd_command.hpp"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <filesystem>
#include <map>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "provisioner/daemon.hpp"
#include "provisioner/local/local_provisioner.hpp"
#include "provisioner/remote_job_source.hpp"
#include "sdk/client.hpp"
#include "sdk/provisioner_daemons.hpp"

namespace berth::provisionerd {

namespace {

constexpr std::chrono::milliseconds kFirstRetry{500};
constexpr std::chrono::milliseconds kMaxRetry{10000};
constexpr int kMaxConcurrency = 64;

std::string default_data_dir() {
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg)
    return std::string(xdg) + "/berth-provisionerd";
  if (const char* home = std::getenv("HOME"); home && *home)
    return std::string(home) + "/.local/share/berth-provisionerd";
  return "berth-provisionerd";
}

std::string host_name() {
  char buffer[256] = {};
  if (::gethostname(buffer, sizeof buffer - 1) != 0 || !*buffer) return "provisionerd";
  return buffer;
}

// This executable's path, so that agent init scripts run the same Berth.
std::string self_path() {
  std::error_code ec;
  auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("berth") : path.string();
}

std::map<std::string, std::string> parse_tags(const std::vector<std::string>& flags) {
  std::map<std::string, std::string> tags;
  for (const auto& flag : flags) {
    auto eq = flag.find('=');
    if (eq == std::string::npos || eq == 0)
      throw Error{ErrorCode::invalid, "--tag \"" + flag + "\" must be key=value."};
    tags[flag.substr(0, eq)] = flag.substr(eq + 1);
  }
  return tags;
}

std::string tags_text(const std::map<std::string, std::string>& tags) {
  std::string out;
  for (const auto& [k, v] : tags) out += (out.empty() ? "" : " ") + k + "=" + v;
  return out.empty() ? "none" : out;
}

// How long SIGTERM lets running jobs finish before they are canceled (systemd waits 90 s).
constexpr std::chrono::seconds kDrainGrace{30};

// SIGINT and SIGTERM, blocked in every thread so that the main thread takes them in sigwait.
sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

// Waits up to `d` for SIGINT or SIGTERM; true when one came.
bool signaled_within(const sigset_t& set, std::chrono::milliseconds d) {
  timespec ts{};
  ts.tv_sec = d.count() / 1000;
  ts.tv_nsec = (d.count() % 1000) * 1000000;
  return sigtimedwait(&set, nullptr, &ts) > 0;
}

// The key's record on the server (its tags), asked until the server answers: a daemon may
// start before the server does. Nullopt when a signal came first.
std::optional<sdk::ProvisionerKey> fetch_key(const std::string& url, const std::string& key,
                                             const sigset_t& signals) {
  auto retry = kFirstRetry;
  for (;;) {
    try {
      sdk::Client client(url);
      client.set_timeout(std::chrono::seconds(30));
      auto r = client.request("GET", "/api/v2/provisionerkeys/" + key, {},
                              {{sdk::kProvisionerKeyHeader, key}});
      if (r.status == 200) return sdk::provisioner_key_from_json(r.json());
      if (r.status == 401 || r.status == 403 || r.status == 404)
        throw Error{ErrorCode::unauthenticated,
                    "The server at " + url + " refused the provisioner key.",
                    "Create one with `berth provisioner keys create`."};
      if (r.status < 500)
        throw Error{ErrorCode::internal, "Unexpected answer from the server.",
                    std::to_string(r.status) + " " + r.body};
      spdlog::warn("the server answered {}; trying again in {} ms", r.status, retry.count());
    } catch (const Error& e) {
      if (e.code() != ErrorCode::unavailable) throw;
      spdlog::warn("{} {} (trying again in {} ms)", e.message(), e.detail(), retry.count());
    }
    if (signaled_within(signals, retry)) return std::nullopt;
    retry = std::min(retry * 2, kMaxRetry);
  }
}

std::vector<coderd::DaemonIdentity> identities(const ProvisionerdOptions& options,
                                               const sdk::ProvisionerKey& key) {
  auto name = options.name.empty() ? host_name() : options.name;
  auto tags = key.tags;
  tags["scope"] = "organization";
  tags["owner"] = "";
  std::vector<coderd::DaemonIdentity> out;
  for (int i = 1; i <= options.concurrency; ++i)
    out.push_back(coderd::DaemonIdentity{
        .id = Uuid::random_v4(),
        .name = options.concurrency == 1 ? name : name + "-" + std::to_string(i),
        .tags = tags,
        .provisioners = {"terraform"},
        .organization_id = key.organization,
        .key_id = key.id,
        .version = BERTH_VERSION,
        .api_version = sdk::kProvisionerDaemonApiVersion});
  return out;
}

void set_up_logging(const std::string& log_level) {
  auto level = spdlog::level::from_str(log_level);
  if (level == spdlog::level::off && log_level != "off")
    throw Error{ErrorCode::invalid, "Unknown --log-level \"" + log_level +
                                        "\"; use trace, debug, info, warn, error or off."};
  spdlog::set_default_logger(spdlog::stderr_logger_mt("berth-provisionerd"));
  spdlog::set_level(level);
}

}  // namespace

int run_provisionerd(const ProvisionerdOptions& options, const cli::GlobalOptions& global) {
  set_up_logging(options.log_level);
  auto url = cli::server_url(global);
  if (!url) throw Error{ErrorCode::invalid, "Give the server's URL with --url (or CODER_URL)."};
  if (options.key.empty())
    throw Error{ErrorCode::invalid,
                "Give a provisioner key with --key (or CODER_PROVISIONER_DAEMON_KEY)."};
  if (options.concurrency < 1 || options.concurrency > kMaxConcurrency)
    throw Error{ErrorCode::invalid,
                "--concurrency must be 1 to " + std::to_string(kMaxConcurrency) + "."};
  auto wanted_tags = parse_tags(options.tags);
  auto server = cli::normalize_url(*url);

  auto signals = stop_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before any thread starts: they inherit it
  auto key = fetch_key(server, options.key, signals);
  if (!key) return 0;
  // Coder's rule: a key's tags are fixed, and a daemon runs with exactly those.
  if (!options.tags.empty() && wanted_tags != key->tags)
    throw Error{ErrorCode::invalid,
                "--tag must match the provisioner key's tags (the key has: " +
                    tags_text(key->tags) + "; given: " + tags_text(wanted_tags) + ").",
                "A key's tags are fixed: create a key with the tags this daemon should have."};

  std::error_code ec;
  auto data_dir = std::filesystem::absolute(
                      options.data_dir.empty() ? default_data_dir() : options.data_dir, ec)
                      .lexically_normal()
                      .string();
  if (!data_dir.empty() && data_dir.back() == '/') data_dir.pop_back();
  std::filesystem::create_directories(data_dir + "/jobs", ec);
  std::filesystem::create_directories(data_dir + "/workspaces", ec);
  if (ec)
    throw Error{ErrorCode::unavailable, "Cannot create the data directory " + data_dir + ".",
                ec.message()};

  SystemClock clock;
  provisioner::local::LocalProvisioner local(server, self_path(), data_dir + "/jobs");
  provisioner::RemoteJobSource source({.url = server, .key = options.key}, clock);
  auto daemons = identities(options, *key);
  provisioner::DaemonPool pool(source, clock, local, daemons, data_dir + "/workspaces");
  pool.start();
  spdlog::info(
      "provisioner daemon {} started: {} job(s) at a time from {} with key \"{}\" "
      "(tags: {}); data directory {}",
      daemons.front().name, options.concurrency, server, key->name, tags_text(key->tags), data_dir);
  int signal = 0;
  sigwait(&signals, &signal);
  if (signal == SIGTERM) {
    // A service manager's stop (systemd, a rolling restart): the job running now finishes if
    // it can, rather than fail; no new one is taken.
    spdlog::info("received SIGTERM: finishing the running job(s), then stopping");
    pool.drain(kDrainGrace);
  } else {
    spdlog::info("received signal {}, stopping", signal);
    pool.stop();
  }
  return 0;
}

void add_provisionerd_command(CLI::App& app, cli::GlobalOptions& global, int& exit_code) {
  auto options = std::make_shared<ProvisionerdOptions>();
  auto* group = app.add_subcommand("provisionerd", "Run an external provisioner daemon.");
  group->require_subcommand(1);
  auto* start = group->add_subcommand(
      "start",
      "Take template imports and workspace builds from a server (with --url) and run "
      "them on this machine.");
  start->add_option("--key", options->key, "The provisioner key (env CODER_PROVISIONER_DAEMON_KEY)")
      ->envname("CODER_PROVISIONER_DAEMON_KEY");
  start->add_option("--name", options->name, "This daemon's name (default: the host name)")
      ->envname("CODER_PROVISIONER_DAEMON_NAME");
  start->add_option("--tag,-t", options->tags,
                    "key=value: must be the provisioner key's tags, which are fixed");
  start->add_option("--concurrency", options->concurrency, "Jobs run at once")
      ->envname("BERTH_PROVISIONERD_CONCURRENCY")
      ->capture_default_str()
      ->check(CLI::Range(1, kMaxConcurrency));
  start
      ->add_option("--data-dir", options->data_dir,
                   "Where workspaces' local files live (default: "
                   "~/.local/share/berth-provisionerd)")
      ->envname("BERTH_PROVISIONERD_DATA_DIR");
  start->add_option("--log-level", options->log_level, "trace, debug, info, warn, error or off")
      ->envname("BERTH_LOG_LEVEL")
      ->capture_default_str();
  start->callback(
      [options, &global, &exit_code] { exit_code = run_provisionerd(*options, global); });
}

}  // namespace berth::provisionerd
