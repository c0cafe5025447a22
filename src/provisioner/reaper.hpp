#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "coderd/provisioner_jobs.hpp"
#include "common/clock.hpp"

namespace berth::provisioner {

// Every `interval` of the clock's time, fails jobs whose daemon stopped heartbeating (hung) or
// that no daemon picked up (pending too long), so that no job stays running forever.
class JobReaper {
 public:
  struct Settings {
    std::chrono::seconds interval{30};
    std::chrono::seconds hung_after{5 * 60};
    std::chrono::seconds pending_after{30 * 60};
  };

  JobReaper(coderd::JobQueue& jobs, const Clock& clock, Settings settings);
  ~JobReaper();
  JobReaper(const JobReaper&) = delete;
  JobReaper& operator=(const JobReaper&) = delete;

  void start();
  void stop();

 private:
  coderd::JobQueue& jobs_;
  const Clock& clock_;
  Settings settings_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace berth::provisioner
