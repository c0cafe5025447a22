#include "provisioner/reaper.hpp"

#include <spdlog/spdlog.h>

namespace berth::provisioner {

JobReaper::JobReaper(coderd::JobQueue& jobs, const Clock& clock, Settings settings)
    : jobs_(jobs), clock_(clock), settings_(settings) {}

JobReaper::~JobReaper() {
  stop();
}

void JobReaper::start() {
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!clock_.wait_for(lock, cv_, settings_.interval, [this] { return stopping_; })) {
      lock.unlock();
      try {
        if (auto n = jobs_.reap(settings_.hung_after, settings_.pending_after))
          spdlog::warn("reaped {} stale provisioner job(s)", n);
      } catch (const std::exception& e) {
        spdlog::error("job reaper: {}", e.what());
      }
      lock.lock();
    }
  });
}

void JobReaper::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace berth::provisioner
