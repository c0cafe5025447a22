#pragma once

#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace berth::agentapi {

// What the workspace agent's app status says about the program.
struct AppStatus {
  std::string state;    // "working" or "idle"
  std::string message;  // at most kMaxAppStatusMessageBytes

  bool operator==(const AppStatus&) const = default;
};

// Coder refuses longer app status messages.
inline constexpr std::size_t kMaxAppStatusMessageBytes = 160;

// Reports the program's state to Coder's `PATCH /api/v2/workspaceagents/me/app-status` with
// the agent token, on its own thread so a slow server never holds up the screen watcher.
// Only the latest state is kept; failures are logged as warnings and not retried.
class StatusReporter {
 public:
  StatusReporter(std::string agent_url, std::string agent_token, std::string app_slug);
  ~StatusReporter();
  StatusReporter(const StatusReporter&) = delete;
  StatusReporter& operator=(const StatusReporter&) = delete;

  // Queues `status` unless it is what was last queued; never blocks on the network.
  void report(AppStatus status);

 private:
  void run();
  void send(const AppStatus& status);

  std::string agent_url_;
  std::string agent_token_;
  std::string app_slug_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::optional<AppStatus> pending_;
  std::optional<AppStatus> last_queued_;
  bool stopping_ = false;
  std::thread thread_;  // last: started once the members it reads exist
};

// Truncates `text` to at most `max_bytes` without splitting a UTF-8 character.
std::string truncate_utf8(const std::string& text, std::size_t max_bytes);

}  // namespace berth::agentapi
