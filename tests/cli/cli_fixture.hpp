#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "cli/cli_runner.hpp"
#include "common/json.hpp"
#include "integration/fixtures.hpp"
#include "integration/server_process.hpp"
#include "support/temp_dir.hpp"

namespace berth::testing {

inline const std::filesystem::path kExamples =
    std::filesystem::path(BERTH_SOURCE_DIR) / "examples/templates";

inline std::string describe(const CliResult& r) {
  return "exit " + std::to_string(r.code) + "\n--- stdout\n" + r.out + "--- stderr\n" + r.err;
}

// A real `berth server` and a config dir of its own: each test is a user at a fresh terminal.
class CliTest : public ::testing::Test {
 protected:
  CliResult berth(std::vector<std::string> args, const CliInput& input = {}) {
    return run_cli(args, config_.path().string(), input);
  }

  // Runs and expects success.
  CliResult ok(std::vector<std::string> args, const CliInput& input = {}) {
    auto r = berth(args, input);
    EXPECT_EQ(r.code, 0) << args.front() << ": " << describe(r);
    return r;
  }

  void login() {
    ok({"login", server_.url(), "--first-user-email", "owner@example.com", "--first-user-username",
        "owner", "--first-user-password", kPassword, "--first-user-full-name", "Owner"});
  }

  TempDir data_;
  TempDir config_;
  ServerProcess server_{data_.path().string()};
};

}  // namespace berth::testing
