#include "agentapi/agentapi_command.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "agentapi/agent.hpp"
#include "agentapi/handlers.hpp"
#include "common/error.hpp"
#include "common/json.hpp"
#include "http/server.hpp"
#include "sdk/client.hpp"

namespace berth::agentapi {

namespace {

// Small bodies only: the API takes chat messages, not uploads.
constexpr std::size_t kMaxBodyBytes = 256 * 1024;
constexpr unsigned kServerThreads = 2;  // a blocked send must not hold up /status

void set_up_logging(const std::string& level_name) {
  auto level = spdlog::level::from_str(level_name);
  if (level == spdlog::level::off && level_name != "off")
    throw Error{ErrorCode::invalid, "Unknown log level.", level_name};
  // Logs go to stderr; stdout carries only the listener line scripts read.
  spdlog::set_default_logger(spdlog::stderr_logger_mt("berth-agentapi"));
  spdlog::set_level(level);
}

// The reporter when this runs inside a Coder workspace agent with a slug to report under.
std::unique_ptr<StatusReporter> make_reporter(const std::string& slug) {
  const char* url = std::getenv("CODER_AGENT_URL");
  const char* token = std::getenv("CODER_AGENT_TOKEN");
  if (slug.empty()) return nullptr;
  if (!url || !*url || !token || !*token) {
    spdlog::warn(
        "--status-slug given but CODER_AGENT_URL or CODER_AGENT_TOKEN is not set; "
        "app status will not be reported");
    return nullptr;
  }
  return std::make_unique<StatusReporter>(url, token, slug);
}

// Posts the conversation as the task's log snapshot when the agent that runs this named the
// task (Berth's manifest sets BERTH_TASK_ID for the agent serving a task's app), so that a
// task stopped by autostop or a shutdown the server did not start still shows it. Best
// effort: failures are logged.
void post_conversation(const Agent& agent) {
  const char* url = std::getenv("CODER_AGENT_URL");
  const char* token = std::getenv("CODER_AGENT_TOKEN");
  const char* task = std::getenv("BERTH_TASK_ID");
  if (!url || !*url || !token || !*token || !task || !*task) return;
  constexpr std::size_t kMaxSnapshotBytes = 64 * 1024;  // the server's cap on the body
  auto body = messages_json(agent);
  auto& list = body.as_object().at("messages").as_array();
  auto text = json::serialize(body);
  while (text.size() > kMaxSnapshotBytes && !list.empty()) {
    list.erase(list.begin());  // the newest messages matter most
    text = json::serialize(body);
  }
  std::string base(url);
  while (!base.empty() && base.back() == '/') base.pop_back();
  try {
    sdk::Client client(base);
    client.set_session_token(token);
    auto r = client.request(
        "POST",
        std::string("/api/v2/workspaceagents/me/tasks/") + task + "/log-snapshot?format=agentapi",
        text, {{"Content-Type", "application/json"}});
    if (r.status / 100 != 2)
      spdlog::warn("posting the conversation failed: HTTP {}: {}", r.status, r.body);
  } catch (const std::exception& e) {
    spdlog::warn("posting the conversation failed: {}", e.what());
  }
}

AgentOptions agent_options(const AgentapiOptions& options) {
  AgentOptions a;
  a.argv = options.command;
  a.cols = static_cast<unsigned short>(options.term_width);
  a.rows = static_cast<unsigned short>(options.term_height);
  a.stable_after = std::chrono::milliseconds(options.stable_after_ms);
  a.initial_prompt = options.initial_prompt;
  return a;
}

}  // namespace

int run_agentapi(const AgentapiOptions& options) {
  set_up_logging(options.log_level);
  if (options.command.empty())
    throw Error{ErrorCode::invalid, "No program given.",
                "Usage: berth agentapi -- <command> [args...]"};
  SystemClock clock;
  auto reporter = make_reporter(options.status_slug);
  std::atomic<bool> program_exited{false};
  http::Server* server_ptr = nullptr;  // set before the program can exit (start() below)
  Agent agent(agent_options(options), clock, reporter.get(), [&] {
    program_exited = true;
    server_ptr->stop();
  });
  http::ServerLimits limits;
  limits.max_body_bytes = kMaxBodyBytes;
  limits.max_streams = 128;
  auto router = std::make_shared<http::Router>(make_router(agent));
  http::Server server([router](http::Request& r) { return router->dispatch(r); }, limits, nullptr,
                      kServerThreads);
  server_ptr = &server;
  // Listen before starting the program, so a taken port leaves nothing behind.
  auto bound = server.listen("127.0.0.1:" + std::to_string(options.port));
  std::printf("Started agentapi listener at http://%s\n", bound.c_str());
  std::fflush(stdout);
  agent.start();
  server.run(/*stop_on_signals=*/true);
  post_conversation(agent);
  int code = agent.finish();
  return program_exited ? code : 0;
}

}  // namespace berth::agentapi
