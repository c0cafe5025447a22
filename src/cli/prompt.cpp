#include "cli/prompt.hpp"

#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <optional>

#include "common/error.hpp"

namespace berth::cli {

namespace {

// Turns terminal echo off for a password and restores it however the read ends.
class EchoOff {
 public:
  EchoOff() {
    if (tcgetattr(STDIN_FILENO, &saved_) != 0) return;
    termios quiet = saved_;
    quiet.c_lflag &= ~tcflag_t(ECHO);
    active_ = tcsetattr(STDIN_FILENO, TCSANOW, &quiet) == 0;
  }
  ~EchoOff() {
    if (!active_) return;
    tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
    std::fputc('\n', stderr);
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

 private:
  termios saved_{};
  bool active_ = false;
};

std::string read_line(bool secret) {
  std::string line;
  bool ok = false;
  {
    std::optional<EchoOff> echo_off;
    if (secret) echo_off.emplace();
    ok = static_cast<bool>(std::getline(std::cin, line));
  }
  if (!ok) throw Error{ErrorCode::invalid, "No answer: input ended."};
  return line;
}

}  // namespace

bool stdin_is_terminal() {
  return isatty(STDIN_FILENO) == 1;
}

std::string prompt(const std::string& label, const std::string& default_value, bool secret) {
  std::fprintf(stderr, "> %s%s: ", label.c_str(),
               default_value.empty() ? "" : (" (" + default_value + ")").c_str());
  std::fflush(stderr);
  auto answer = read_line(secret);
  return answer.empty() ? default_value : answer;
}

std::string value_or_prompt(const std::string& value, const std::string& flag,
                            const std::string& label, bool secret) {
  if (!value.empty()) return value;
  if (!stdin_is_terminal())
    throw Error{
        ErrorCode::invalid, "Missing " + flag + ".",
        "stdin is not a terminal, so " + label + " cannot be asked for; pass " + flag + "."};
  for (;;) {
    auto answer = prompt(label, {}, secret);
    if (!answer.empty()) return answer;
  }
}

void confirm(const std::string& question, bool yes) {
  if (yes) return;
  if (!stdin_is_terminal())
    throw Error{ErrorCode::invalid, question, "stdin is not a terminal; pass --yes to confirm."};
  auto answer = prompt(question + " (yes/no)", "no");
  if (answer != "yes" && answer != "y") throw Error{ErrorCode::invalid, "Canceled."};
}

}  // namespace berth::cli
