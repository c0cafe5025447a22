#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "support/postgres_server.hpp"

namespace berth::testing {

// A test suite on one PostgresServer, each test with a database of its own (created in
// SetUp, named after the test with `prefix`). When the server cannot start, every test fails
// saying why: PostgreSQL is part of the test setup, never a reason to skip.
class PostgresSuite : public ::testing::Test {
 protected:
  explicit PostgresSuite(std::string prefix) : prefix_(std::move(prefix)) {}

  static void SetUpTestSuite() {
    try {
      server_ = std::make_unique<PostgresServer>();
    } catch (const std::exception& e) {
      start_error_ = e.what();
    }
  }
  static void TearDownTestSuite() { server_.reset(); }

  void SetUp() override {
    ASSERT_TRUE(server_) << "cannot start PostgreSQL: " << start_error_;
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    url_ = server_->create_database(prefix_ + name);
  }

  // This test's database.
  const std::string& url() const { return url_; }

 private:
  static inline std::unique_ptr<PostgresServer> server_;
  static inline std::string start_error_;
  std::string prefix_;
  std::string url_;
};

}  // namespace berth::testing
