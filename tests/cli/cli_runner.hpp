#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace berth::testing {

// What one run of the `berth` binary printed and how it exited.
struct CliResult {
  int code = -1;
  std::string out;
  std::string err;  // empty for a run in a terminal, where stderr goes to the terminal too
};

// How a run is fed and bounded.
struct CliInput {
  std::string stdin_text;  // written to stdin (a file, so never a terminal)
  // The child is SIGKILLed after this; its exit code is then 128 + 9.
  std::chrono::seconds timeout{300};
};

inline CliInput with_stdin(std::string text) {
  CliInput input;
  input.stdin_text = std::move(text);
  return input;
}
inline CliInput with_timeout(std::chrono::seconds timeout) {
  CliInput input;
  input.timeout = timeout;
  return input;
}

// Runs the real `berth` binary with `args`, stdin from `input.stdin_text` (so never a
// terminal), and CODER_CONFIG_DIR=`config_dir`; other CODER_*/BERTH_* variables of the test
// are not passed.
CliResult run_cli(const std::vector<std::string>& args, const std::string& config_dir,
                  const CliInput& input = {});

// As run_cli, but in a pseudo-terminal (stdin, stdout and stderr), as a person runs it:
// `typed` is typed in once the program starts; `out` holds everything the terminal showed.
CliResult run_cli_in_terminal(const std::vector<std::string>& args, const std::string& config_dir,
                              const std::string& typed,
                              std::chrono::seconds timeout = std::chrono::seconds(300));

}  // namespace berth::testing
