#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agentapi/conversation.hpp"
#include "agentapi/events.hpp"
#include "agentapi/screen.hpp"
#include "agentapi/status_reporter.hpp"
#include "common/clock.hpp"
#include "pty/pty_process.hpp"

namespace berth::agentapi {

// How the program is run and watched.
struct AgentOptions {
  std::vector<std::string> argv;
  unsigned short cols = 80;
  unsigned short rows = 1000;
  std::chrono::milliseconds stable_after{1000};     // unchanged this long ⇒ stable
  std::chrono::milliseconds snapshot_interval{25};  // how often the screen is compared
  std::string initial_prompt;
  std::size_t max_messages = 10000;
  std::size_t max_event_subscribers = 100;
  std::size_t max_queued_events = 1024;
};

// The running program and its conversation: a pump thread feeds the PTY's output into the
// screen, snapshots it, and publishes message and status changes; HTTP handlers read the
// conversation and type into the program. Thread-safe.
class Agent {
 public:
  // `reporter` may be null (no Coder agent credentials). `on_exit` runs on the pump thread
  // when the program exits.
  Agent(AgentOptions options, const Clock& clock, StatusReporter* reporter,
        std::function<void()> on_exit);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Starts the program and the pump.
  void start();
  // Ends the program if it still runs and stops the pump; returns the program's exit code.
  int finish();

  Status status() const;
  std::vector<Message> messages() const;
  // Types `content` and Enter as a user turn; throws Error{conflict} unless stable. Returns
  // once the program reacted (or a bounded wait ran out).
  void send_user(const std::string& content);
  // Writes `bytes` to the terminal as is, whatever the status; not part of the conversation.
  void send_raw(const std::string& bytes);
  // An event stream that starts with the current messages and status.
  std::shared_ptr<EventSubscriber> subscribe();

 private:
  void pump();
  void snapshot();
  void publish(const ConversationUpdate& update);
  void maybe_type_initial_prompt();
  std::uint64_t screen_version() const;
  // Waits until the screen changed after `since`, the program exited, or `timeout`.
  bool wait_for_change(std::uint64_t since, std::chrono::milliseconds timeout);
  void report_status();

  AgentOptions options_;
  const Clock& clock_;
  StatusReporter* reporter_;
  std::function<void()> on_exit_;
  EventHub hub_;
  std::unique_ptr<pty::PtyProcess> process_;

  mutable std::mutex mutex_;  // guards everything below
  std::condition_variable changed_;
  Screen screen_;
  Conversation conversation_;
  std::uint64_t screen_version_ = 0;
  bool exited_ = false;
  bool stopping_ = false;
  bool initial_prompt_started_ = false;

  std::thread prompt_thread_;
  std::thread pump_thread_;
};

}  // namespace berth::agentapi
