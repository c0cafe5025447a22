#include "agent/outbox.hpp"

namespace berth::agent {

void Outbox::push(std::string method, json::object params) {
  {
    std::lock_guard lock(mutex_);
    reports_.push_back(Report{std::move(method), std::move(params)});
  }
  changed_.notify_all();
}

void Outbox::push_log(const std::string& source_id, const std::string& created_at,
                      std::string output, const std::string& level) {
  {
    std::lock_guard lock(mutex_);
    if (log_bytes_ + output.size() > max_log_bytes_) {
      ++dropped_;
      return;
    }
    log_bytes_ += output.size();
    json::object line{{"created_at", created_at}, {"output", output}, {"level", level}};
    // Never extend the front: it may be in flight, and its acknowledgement pops it whole.
    bool extend = reports_.size() > 1 && reports_.back().method == "batch_create_logs";
    if (extend) {
      auto& last = reports_.back();
      extend = last.params.at("log_source_id").as_string() == source_id &&
               last.log_lines < kMaxBatchLines && last.log_bytes + output.size() <= kMaxBatchBytes;
    }
    if (!extend)
      reports_.push_back(Report{"batch_create_logs", json::object{{"log_source_id", source_id},
                                                                  {"logs", json::array{}}}});
    auto& batch = reports_.back();
    batch.params.at("logs").as_array().push_back(std::move(line));
    batch.log_bytes += output.size();
    ++batch.log_lines;
  }
  changed_.notify_all();
}

std::optional<Report> Outbox::front(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, timeout, [&] { return stopped_ || !reports_.empty(); });
  if (reports_.empty()) return std::nullopt;
  return reports_.front();
}

void Outbox::pop() {
  {
    std::lock_guard lock(mutex_);
    if (reports_.empty()) return;
    log_bytes_ -= reports_.front().log_bytes;
    reports_.pop_front();
  }
  changed_.notify_all();
}

bool Outbox::wait_empty(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return reports_.empty(); });
}

void Outbox::stop() {
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
  }
  changed_.notify_all();
}

std::size_t Outbox::size() const {
  std::lock_guard lock(mutex_);
  return reports_.size();
}

std::size_t Outbox::dropped_lines() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

}  // namespace berth::agent
