#pragma once

#include <string>
#include <vector>

namespace berth::testing {

// What one run of the `berth` binary printed and how it exited.
struct CliResult {
  int code = -1;
  std::string out;
  std::string err;
};

// Runs the real `berth` binary with `args`, stdin at /dev/null (so never a terminal), and
// CODER_CONFIG_DIR=`config_dir`; other CODER_*/BERTH_* variables of the test are not passed.
CliResult run_cli(const std::vector<std::string>& args, const std::string& config_dir);

}  // namespace berth::testing
