#include "agentapi/status_reporter.hpp"

#include <spdlog/spdlog.h>

#include <utility>

#include "common/json.hpp"
#include "sdk/client.hpp"

namespace berth::agentapi {

namespace {

constexpr char kAppStatusPath[] = "/api/v2/workspaceagents/me/app-status";

std::string without_trailing_slash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

}  // namespace

std::string truncate_utf8(const std::string& text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  std::size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

StatusReporter::StatusReporter(std::string agent_url, std::string agent_token, std::string app_slug)
    : agent_url_(without_trailing_slash(std::move(agent_url))),
      agent_token_(std::move(agent_token)),
      app_slug_(std::move(app_slug)),
      thread_([this] { run(); }) {}

StatusReporter::~StatusReporter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void StatusReporter::report(AppStatus status) {
  {
    std::lock_guard lock(mutex_);
    if (last_queued_ == status) return;
    last_queued_ = status;
    pending_ = std::move(status);
  }
  wake_.notify_all();
}

void StatusReporter::run() {
  for (;;) {
    AppStatus status;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || pending_; });
      // The last state is still sent on the way out: "idle" after the program finished.
      if (!pending_) return;
      status = std::move(*pending_);
      pending_.reset();
    }
    send(status);
  }
}

void StatusReporter::send(const AppStatus& status) {
  try {
    sdk::Client client(agent_url_);
    client.set_session_token(agent_token_);
    auto response = client.request_json(
        "PATCH", kAppStatusPath,
        json::object{{"app_slug", app_slug_},
                     {"state", status.state},
                     {"message", truncate_utf8(status.message, kMaxAppStatusMessageBytes)}});
    if (response.status / 100 != 2)
      spdlog::warn("reporting app status \"{}\" failed: HTTP {}: {}", status.state, response.status,
                   truncate_utf8(response.body, 512));
  } catch (const std::exception& e) {
    spdlog::warn("reporting app status \"{}\" failed: {}", status.state, e.what());
  }
}

}  // namespace berth::agentapi
