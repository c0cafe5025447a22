#include "agent/agent.hpp"

#include <signal.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "agent/connection.hpp"
#include "agent/http_probe.hpp"
#include "agent/outbox.hpp"
#include "agent/reconnecting_pty.hpp"
#include "agent/script_runner.hpp"
#include "agent/session_counters.hpp"
#include "agent/stats.hpp"
#include "common/error.hpp"
#include "sdk/agent_protocol.hpp"

namespace berth::agent {

namespace {

using namespace std::chrono;

std::int64_t integer(const json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  return v && v->is_int64() ? v->get_int64() : 0;
}

bool boolean(const json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  return v && v->is_bool() && v->get_bool();
}

const json::array& array_of(const json::object& o, const char* key) {
  static const json::array kEmpty;
  auto* v = o.if_contains(key);
  return v && v->is_array() ? v->get_array() : kEmpty;
}

std::string now_text() {
  return format_rfc3339(floor<microseconds>(system_clock::now()));
}

// A flag that background loops wait on, so that shutdown interrupts their sleeps.
class StopFlag {
 public:
  void set() {
    {
      std::lock_guard lock(mutex_);
      stopped_ = true;
    }
    cv_.notify_all();
  }
  // Waits `d`; true if stopped meanwhile.
  bool wait_for(milliseconds d) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, d, [&] { return stopped_; });
  }
  bool stopped() {
    std::lock_guard lock(mutex_);
    return stopped_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopped_ = false;
};

std::string expand_directory(std::string dir) {
  const char* home = std::getenv("HOME");
  if (dir.empty()) return home ? home : std::filesystem::current_path().string();
  if (dir == "~" || dir.starts_with("~/")) dir = std::string(home ? home : "") + dir.substr(1);
  if (dir.starts_with("$HOME")) dir = std::string(home ? home : "") + dir.substr(5);
  return dir;
}

// Terminals outlive a dropped client for `--pty-timeout` (Coder: 5 minutes).
milliseconds parse_pty_timeout(const std::string& text) {
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
    throw Error{ErrorCode::invalid, "Invalid --pty-timeout \"" + text + "\".",
                "Use a number with a unit: ms, s, m or h (e.g. 5m)."};
  return milliseconds(static_cast<std::int64_t>(value * ms));
}

ConnectionOptions connection_options(const AgentOptions& options,
                                     std::shared_ptr<ReconnectingPtys> terminals) {
  ConnectionOptions o;
  o.url = options.url;
  o.token = options.token;
  o.version = options.version;
  o.terminals = std::move(terminals);
  return o;
}

std::shared_ptr<ReconnectingPtys> make_terminals(const AgentOptions& options,
                                                 SessionCounters& counters) {
  ReconnectingPtyOptions o;
  o.idle_timeout = parse_pty_timeout(options.pty_timeout);
  o.counters = &counters;
  return std::make_shared<ReconnectingPtys>(o);
}

class Agent {
 public:
  explicit Agent(const AgentOptions& options)
      : options_(options),
        terminals_(make_terminals(options, sessions_)),
        connection_(connection_options(options, terminals_)) {}

  int run(const sigset_t& stop_signals);

 private:
  void send_loop();
  bool fetch_manifest();
  void prepare_environment();
  void start();
  void shutdown();
  ScriptResult run_logged(const json::object& script, const std::string& stage);
  void report_lifecycle(const std::string& state);
  void watch_app(json::object app);
  void collect_metadata(json::object item);
  void report_stats();

  AgentOptions options_;
  // Counts its attachments in sessions_ (constructed later, used only once connected).
  std::shared_ptr<ReconnectingPtys> terminals_;
  Connection connection_;
  Outbox outbox_;
  StopFlag stop_;          // background loops (health, metadata)
  StopFlag sender_stop_;   // the sender, last to go
  json::object manifest_;  // set once, before start() and the loops read it
  std::map<std::string, std::string> env_;
  std::string dir_;
  std::vector<std::thread> loops_;
  // Sessions the terminal (reconnecting PTY), SSH and IDE code open; they take it by reference.
  SessionCounters sessions_;
  std::function<Stats()> stats_source_ = [this] { return stats_from(sessions_); };
};

void Agent::send_loop() {
  while (!sender_stop_.stopped()) {
    auto report = outbox_.front(milliseconds(250));
    if (!report) continue;
    try {
      connection_.call(report->method, report->params);
      outbox_.pop();
    } catch (const NotDelivered&) {
      connection_.wait_connected(seconds(1));  // kept: sent again once connected
    } catch (const RpcError& e) {
      // Refused for good (e.g. the log limit): retrying would block everything behind it.
      spdlog::warn("server refused {}: {} ({})", report->method, e.what(), e.code());
      outbox_.pop();
    }
  }
}

bool Agent::fetch_manifest() {
  while (!stop_.stopped()) {
    if (!connection_.wait_connected(seconds(1))) continue;
    try {
      manifest_ = connection_.call("get_manifest", {}).as_object();
      return true;
    } catch (const std::exception& e) {
      spdlog::warn("fetching the manifest failed: {}", e.what());
      stop_.wait_for(seconds(1));
    }
  }
  return false;
}

void Agent::prepare_environment() {
  env_ = current_environment();
  // Scripts keep CODER_AGENT_URL/CODER_AGENT_TOKEN, as Coder's do: task scripts report app
  // status and upload log snapshots with them. They also find this `berth` on their PATH,
  // so templates can run `berth agentapi` without knowing where Berth is installed.
  std::error_code self_ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", self_ec);
  if (!self_ec) {
    auto path = env_.count("PATH") ? env_["PATH"] : std::string("/usr/local/bin:/usr/bin:/bin");
    env_["PATH"] = self.parent_path().string() + ":" + path;
  }
  if (auto* vars = manifest_.if_contains("environment_variables"); vars && vars->is_object())
    for (const auto& [k, v] : vars->get_object())
      env_[std::string(k)] = v.is_string() ? std::string(v.get_string()) : json::serialize(v);
  env_["CODER"] = "true";
  env_["CODER_WORKSPACE_NAME"] = json::string_at(manifest_, "workspace_name");
  env_["CODER_WORKSPACE_OWNER_NAME"] = json::string_at(manifest_, "owner_name");
  env_["CODER_WORKSPACE_AGENT_NAME"] = json::string_at(manifest_, "agent_name");
  dir_ = expand_directory(json::string_at(manifest_, "directory"));
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  terminals_->set_environment(env_, dir_);
  outbox_.push("update_startup", json::object{{"version", options_.version},
                                              {"api_version", sdk::agentproto::kApiVersion},
                                              {"expanded_directory", dir_}});
}

void Agent::report_lifecycle(const std::string& state) {
  spdlog::info("lifecycle: {}", state);
  outbox_.push("update_lifecycle", json::object{{"state", state}, {"changed_at", now_text()}});
}

ScriptResult Agent::run_logged(const json::object& script, const std::string& stage) {
  auto source = json::string_at(script, "log_source_id");
  ScriptRun run{json::string_at(script, "script"), env_, dir_, seconds(integer(script, "timeout"))};
  auto result = run_script(
      run, [&](std::string line) { outbox_.push_log(source, now_text(), std::move(line)); });
  outbox_.push("script_completed",
               json::object{{"script_id", json::string_at(script, "id")},
                            {"display_name", json::string_at(script, "display_name")},
                            {"started_at", format_rfc3339(result.started_at)},
                            {"ended_at", format_rfc3339(result.ended_at)},
                            {"exit_code", result.exit_code},
                            {"stage", stage},
                            {"status", result.status}});
  return result;
}

// Start scripts run in parallel, as Coder's do; the agent is ready when all have ended.
void Agent::start() {
  report_lifecycle("starting");
  std::vector<json::object> scripts;
  for (const auto& s : array_of(manifest_, "scripts"))
    if (s.is_object() && boolean(s.get_object(), "run_on_start")) scripts.push_back(s.get_object());
  std::vector<ScriptResult> results(scripts.size());
  std::vector<std::thread> runners;
  for (std::size_t i = 0; i < scripts.size(); ++i)
    runners.emplace_back([&, i] { results[i] = run_logged(scripts[i], "start"); });
  for (auto& t : runners) t.join();
  std::string state = "ready";
  for (const auto& r : results)
    if (r.status == "timed_out")
      state = "start_timeout";
    else if (r.status != "ok" && state == "ready")
      state = "start_error";
  report_lifecycle(state);
}

void Agent::watch_app(json::object app) {
  const auto& hc = app.at("healthcheck").as_object();
  auto url = json::string_at(hc, "url");
  auto interval = seconds(integer(hc, "interval"));
  auto threshold = integer(hc, "threshold");
  std::string health = "initializing";
  std::int64_t failures = 0;
  while (!stop_.wait_for(interval)) {
    // Coder: one success is healthy; `threshold` failures in a row are unhealthy.
    std::string next = health;
    if (probe_http(url, interval - milliseconds(100))) {
      failures = 0;
      next = "healthy";
    } else if (++failures >= threshold) {
      next = "unhealthy";
    }
    if (next == health) continue;
    health = next;
    outbox_.push(
        "batch_update_app_healths",
        json::object{{"updates", json::array{json::object{{"id", json::string_at(app, "id")},
                                                          {"health", health}}}}});
  }
}

void Agent::collect_metadata(json::object item) {
  auto interval = seconds(std::max<std::int64_t>(1, integer(item, "interval")));
  auto timeout = integer(item, "timeout");
  do {
    std::string output;
    ScriptRun run{json::string_at(item, "script"), env_, dir_, seconds(timeout > 0 ? timeout : 10)};
    auto result = run_script(run, [&](std::string line) {
      if (!output.empty()) output += "\n";
      output += line;
    });
    std::string error = result.status == "ok" ? "" : "metadata script " + result.status;
    outbox_.push(
        "batch_update_metadata",
        json::object{{"metadata", json::array{json::object{{"key", json::string_at(item, "key")},
                                                           {"value", output},
                                                           {"error", error},
                                                           {"collected_at", now_text()}}}}});
  } while (!stop_.wait_for(interval));
}

// Coder's agent asks for the interval first (a report without stats), then reports every
// interval. A report that cannot be delivered is dropped: the next one supersedes it.
void Agent::report_stats() {
  milliseconds interval{0};
  while (interval.count() <= 0 && !stop_.stopped()) {
    try {
      auto answer = connection_.call("update_stats", {}, seconds(5));
      interval = milliseconds(integer(answer.as_object(), "report_interval_ms"));
    } catch (const RpcError& e) {
      spdlog::warn("the server takes no stats: {}", e.what());
      return;
    } catch (const std::exception& e) {
      spdlog::debug("asking for the stats interval: {}", e.what());
      connection_.wait_connected(seconds(1));
      stop_.wait_for(seconds(1));
    }
  }
  if (interval.count() <= 0) return;
  interval = std::max(interval, milliseconds(100));
  while (!stop_.wait_for(interval)) {
    try {
      connection_.call("update_stats", stats_params(stats_source_(), connection_.round_trip_ms()),
                       seconds(5));
    } catch (const std::exception& e) {
      spdlog::debug("stats not reported: {}", e.what());
    }
  }
}

void Agent::shutdown() {
  report_lifecycle("shutting_down");
  std::string state = "off";
  for (const auto& s : array_of(manifest_, "scripts")) {
    if (!s.is_object() || !boolean(s.get_object(), "run_on_stop")) continue;
    auto r = run_logged(s.get_object(), "stop");
    if (r.status == "timed_out") state = "shutdown_timeout";
    if (r.status == "exit_failure" && state == "off") state = "shutdown_error";
  }
  report_lifecycle(state);
}

int Agent::run(const sigset_t& stop_signals) {
  connection_.start();
  std::thread sender([this] { send_loop(); });
  std::thread starter([this] {
    if (!fetch_manifest()) return;
    prepare_environment();
    loops_.emplace_back([this] { report_stats(); });
    for (const auto& a : array_of(manifest_, "apps")) {
      const auto& app = a.as_object();
      auto* hc = app.if_contains("healthcheck");
      if (hc && hc->is_object() && !json::string_at(hc->get_object(), "url").empty() &&
          integer(hc->get_object(), "interval") > 0 && integer(hc->get_object(), "threshold") > 0)
        loops_.emplace_back([this, app] { watch_app(app); });
    }
    for (const auto& m : array_of(manifest_, "metadata"))
      if (m.is_object() && !json::string_at(m.get_object(), "script").empty())
        loops_.emplace_back([this, item = m.get_object()] { collect_metadata(item); });
    start();
  });
  int signal = 0;
  sigwait(&stop_signals, &signal);
  spdlog::info("received signal {}, shutting down", signal);
  stop_.set();
  starter.join();  // a running start script finishes or dies with the process group's signal
  for (auto& t : loops_) t.join();
  if (!manifest_.empty()) shutdown();
  // What is queued (the final lifecycle included) gets a bounded chance to reach the server.
  if (!outbox_.wait_empty(seconds(5)))
    spdlog::warn("{} report(s) not delivered before exit", outbox_.size());
  sender_stop_.set();
  outbox_.stop();
  sender.join();
  connection_.stop();
  return 0;
}

}  // namespace

int run_agent(const AgentOptions& options) {
  spdlog::set_default_logger(spdlog::stderr_logger_mt("berth-agent"));
  spdlog::set_level(spdlog::level::from_str(options.log_level));
  if (options.url.empty() || options.token.empty())
    throw Error{ErrorCode::invalid, "The agent needs CODER_AGENT_URL and CODER_AGENT_TOKEN."};
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  Agent agent(options);
  return agent.run(stop_signals);
}

}  // namespace berth::agent
