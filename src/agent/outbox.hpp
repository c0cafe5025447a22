#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <string>

#include "common/json.hpp"

namespace berth::agent {

// One report that must reach the server: an RPC method and its params.
struct Report {
  std::string method;
  json::object params;
  std::size_t log_bytes = 0;  // output bytes of a batch_create_logs report
  std::size_t log_lines = 0;
};

// The agent's reports in order, kept until the server has acknowledged them, so that a
// dropped connection loses nothing: the sender looks at front(), and pops only after the
// server answered. Log lines of one source coalesce into batches. Bounded: past
// `max_log_bytes` of unsent output, new lines are dropped and counted. Thread-safe.
class Outbox {
 public:
  static constexpr std::size_t kMaxBatchLines = 200;
  static constexpr std::size_t kMaxBatchBytes = 64 * 1024;

  explicit Outbox(std::size_t max_log_bytes = 4 * 1024 * 1024) : max_log_bytes_(max_log_bytes) {}

  void push(std::string method, json::object params);
  // Appends one line to the newest batch of `source` if it is last in line, else starts one.
  void push_log(const std::string& source_id, const std::string& created_at, std::string output,
                const std::string& level = "info");
  // The oldest unsent report, waiting up to `timeout`; nullopt if none or stopped.
  std::optional<Report> front(std::chrono::milliseconds timeout);
  // Drops the oldest report (after the server acknowledged it).
  void pop();
  // Waits until everything was sent, up to `timeout`; true if it was.
  bool wait_empty(std::chrono::milliseconds timeout);
  void stop();
  std::size_t size() const;
  std::size_t dropped_lines() const;

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Report> reports_;
  std::size_t max_log_bytes_;
  std::size_t log_bytes_ = 0;
  std::size_t dropped_ = 0;
  bool stopped_ = false;
};

}  // namespace berth::agent
