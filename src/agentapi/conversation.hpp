#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "agentapi/stability.hpp"
#include "common/clock.hpp"

namespace berth::agentapi {

enum class Role { user, agent };
enum class Status { running, stable };

const char* to_string(Role role);
const char* to_string(Status status);

// One turn of the conversation; `id` is its index since the program started.
struct Message {
  std::int64_t id = 0;
  Role role = Role::agent;
  std::string content;
  TimePoint time;
};

// The part of `after` that is new since `before`: from the first line of `after` that does
// not appear anywhere in `before`, with blank lines trimmed at both ends.
std::string screen_diff(const std::string& before, const std::string& after);

// Drops the leading lines of `message` that echo `input` (terminals and CLIs print what was
// typed); the match ignores whitespace and tolerates a few missing or extra characters.
std::string remove_echo(const std::string& message, const std::string& input);

// Drops blank lines at both ends.
std::string trim_blank_lines(const std::string& text);

// What changed with one snapshot or send, for the event stream.
struct ConversationUpdate {
  std::vector<Message> messages;  // added or changed
  bool status_changed = false;
  bool screen_changed = false;
};

// The conversation with a terminal program, rebuilt from screen snapshots: message 0 is what
// the program first showed, each user message is what was typed, and the agent message after
// it is the screen's change since the user message was sent. Not thread-safe.
class Conversation {
 public:
  Conversation(const Clock& clock, std::chrono::milliseconds stable_after,
               std::size_t max_messages);

  // Takes a snapshot of the screen: updates the current agent message and the status.
  ConversationUpdate observe(const std::string& screen);
  // Re-evaluates the status as time passes without a new snapshot.
  ConversationUpdate tick();
  // Starts a user turn; throws Error{conflict} unless the program is stable.
  ConversationUpdate begin_user_message(std::string content);
  // The typed text has been submitted; agent output is tracked again from here.
  ConversationUpdate end_user_message();

  Status status() const { return status_; }
  const std::deque<Message>& messages() const { return messages_; }

 private:
  Status compute_status() const;
  ConversationUpdate finish(ConversationUpdate update);
  void update_agent_message(const std::string& screen, ConversationUpdate& update);
  Message& append(Role role, std::string content);

  const Clock& clock_;
  StabilityTracker stability_;
  std::size_t max_messages_;
  std::deque<Message> messages_;
  std::int64_t next_id_ = 0;
  std::string screen_before_;  // the screen when the last user message was sent
  std::string last_input_;
  bool typing_ = false;  // a user message is being typed: its echo is not agent output
  Status status_ = Status::running;
};

}  // namespace berth::agentapi
