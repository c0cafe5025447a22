#include "agentapi/conversation.hpp"

#include <algorithm>
#include <utility>

#include "common/error.hpp"

namespace berth::agentapi {

namespace {

// Echoed input is looked for near the top of the new output only: a CLI prints it first.
constexpr std::size_t kEchoSearchLines = 5;
constexpr std::size_t kEchoSearchMinChars = 25;
constexpr std::size_t kEchoPrefixChars = 6;
// How far the echo may drift from the input (wrapped lines, stripped markup) and still match.
constexpr std::size_t kEchoMaxGap = 5;

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (;;) {
    auto end = text.find('\n', start);
    lines.push_back(text.substr(start, end == std::string::npos ? end : end - start));
    if (end == std::string::npos) return lines;
    start = end + 1;
  }
}

std::string join_lines(std::vector<std::string>::const_iterator first,
                       std::vector<std::string>::const_iterator last) {
  std::string out;
  for (auto it = first; it != last; ++it) {
    if (it != first) out.push_back('\n');
    out += *it;
  }
  return out;
}

bool is_blank(const std::string& line) {
  return line.find_first_not_of(" \t\r\f\v") == std::string::npos;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// The text without whitespace, and for each kept byte the line it came from.
struct Flattened {
  std::string chars;
  std::vector<std::size_t> line_of;
};

Flattened flatten(const std::vector<std::string>& lines) {
  Flattened f;
  for (std::size_t i = 0; i < lines.size(); ++i)
    for (char c : lines[i])
      if (!is_space(c)) {
        f.chars.push_back(c);
        f.line_of.push_back(i);
      }
  return f;
}

// Index in `msg` of the last character matched by following `input` on from the match
// msg[m] == input[u], allowing up to kEchoMaxGap characters of drift on either side.
std::size_t follow_echo(const std::string& msg, const std::string& input, std::size_t m,
                        std::size_t u) {
  for (;;) {
    bool advanced = false;
    for (std::size_t du = 1; du <= kEchoMaxGap && !advanced; ++du)
      for (std::size_t dm = 1; dm <= kEchoMaxGap && !advanced; ++dm)
        if (u + du < input.size() && m + dm < msg.size() && input[u + du] == msg[m + dm]) {
          u += du;
          m += dm;
          advanced = true;
        }
    if (!advanced) return m;
  }
}

}  // namespace

const char* to_string(Role role) {
  return role == Role::user ? "user" : "agent";
}

const char* to_string(Status status) {
  return status == Status::stable ? "stable" : "running";
}

std::string trim_blank_lines(const std::string& text) {
  auto lines = split_lines(text);
  auto first = std::find_if_not(lines.cbegin(), lines.cend(), is_blank);
  auto last = std::find_if_not(lines.crbegin(), std::make_reverse_iterator(first), is_blank).base();
  return join_lines(first, last);
}

std::string screen_diff(const std::string& before, const std::string& after) {
  auto old_lines = split_lines(before);
  auto new_lines = split_lines(after);
  std::sort(old_lines.begin(), old_lines.end());
  auto first_new = std::find_if(new_lines.cbegin(), new_lines.cend(), [&](const std::string& l) {
    return !std::binary_search(old_lines.begin(), old_lines.end(), l);
  });
  return trim_blank_lines(join_lines(first_new, new_lines.cend()));
}

std::string remove_echo(const std::string& message, const std::string& input) {
  auto input_flat = flatten(split_lines(input));
  if (input_flat.chars.empty()) return message;
  auto lines = split_lines(message);
  auto msg = flatten(lines);
  // The first few characters of the input's first line locate the echo's start.
  std::size_t prefix_len = 0;
  while (prefix_len < input_flat.chars.size() && prefix_len < kEchoPrefixChars &&
         input_flat.line_of[prefix_len] == 0)
    ++prefix_len;
  std::size_t window = 0;
  while (window < msg.chars.size() && msg.line_of[window] < kEchoSearchLines) ++window;
  window = std::min(msg.chars.size(), std::max(window, kEchoSearchMinChars));
  auto start = std::string_view(msg.chars).substr(0, window).find(
      std::string_view(input_flat.chars).substr(0, prefix_len));
  if (start == std::string_view::npos) return message;
  auto end = follow_echo(msg.chars, input_flat.chars, start + prefix_len - 1, prefix_len - 1);
  return join_lines(lines.cbegin() + static_cast<std::ptrdiff_t>(msg.line_of[end] + 1),
                    lines.cend());
}

Conversation::Conversation(const Clock& clock, std::chrono::milliseconds stable_after,
                           std::size_t max_messages)
    : clock_(clock),
      stability_(stable_after),
      max_messages_(std::max<std::size_t>(max_messages, 2)) {}

ConversationUpdate Conversation::observe(const std::string& screen) {
  ConversationUpdate update;
  update.screen_changed = stability_.observe(screen, clock_.steady_now());
  if (update.screen_changed && !typing_) update_agent_message(screen, update);
  return finish(std::move(update));
}

ConversationUpdate Conversation::tick() {
  return finish({});
}

ConversationUpdate Conversation::begin_user_message(std::string content) {
  if (typing_ || compute_status() != Status::stable)
    throw Error{ErrorCode::conflict,
                "Message can only be sent when the agent is waiting for user input.",
                "Wait until GET /status reports \"stable\"."};
  typing_ = true;
  screen_before_ = stability_.screen();
  last_input_ = content;
  stability_.touch(clock_.steady_now());
  ConversationUpdate update;
  update.messages.push_back(append(Role::user, std::move(content)));
  return finish(std::move(update));
}

ConversationUpdate Conversation::end_user_message() {
  typing_ = false;
  stability_.touch(clock_.steady_now());
  ConversationUpdate update;
  update_agent_message(stability_.screen(), update);
  return finish(std::move(update));
}

Status Conversation::compute_status() const {
  // A blank screen is a program still starting (an interpreter loading), not one waiting for
  // input: every interactive CLI shows something, if only a prompt.
  if (typing_ || stability_.screen().empty() || !stability_.stable(clock_.steady_now()))
    return Status::running;
  return Status::stable;
}

ConversationUpdate Conversation::finish(ConversationUpdate update) {
  auto now_status = compute_status();
  update.status_changed = now_status != status_;
  status_ = now_status;
  return update;
}

void Conversation::update_agent_message(const std::string& screen, ConversationUpdate& update) {
  auto text = trim_blank_lines(remove_echo(screen_diff(screen_before_, screen), last_input_));
  if (!messages_.empty() && messages_.back().role == Role::agent) {
    if (messages_.back().content == text) return;
    messages_.back().content = std::move(text);
    update.messages.push_back(messages_.back());
    return;
  }
  // The reply starts with its first visible text, so an empty agent turn is never listed.
  if (text.empty()) return;
  update.messages.push_back(append(Role::agent, std::move(text)));
}

Message& Conversation::append(Role role, std::string content) {
  messages_.push_back(Message{next_id_++, role, std::move(content), clock_.now()});
  // Old turns go first; ids stay stable so clients can still follow the rest.
  while (messages_.size() > max_messages_) messages_.pop_front();
  return messages_.back();
}

}  // namespace berth::agentapi
