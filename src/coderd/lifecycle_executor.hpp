#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "coderd/workspaces.hpp"
#include "common/clock.hpp"
#include "store/store.hpp"

namespace berth::coderd {

// What one tick did.
struct LifecycleStats {
  int started = 0;
  int stopped = 0;
  int marked_dormant = 0;
  int deleted = 0;
  int errors = 0;
};

// Acts on workspace schedules and policies (Coder's lifecycle executor): autostart on the
// schedule, autostop at the deadline (or when the owner is suspended), stop after a failed
// build's failure TTL, mark dormant after time_til_dormant without use, and delete dormant
// workspaces once deleting_at passed. Each workspace is handled under a database lease, so
// replicas never act twice on one; a failure on one workspace does not stop the others.
class LifecycleExecutor {
 public:
  LifecycleExecutor(store::Store& store, Workspaces& workspaces, const Clock& clock,
                    std::string holder);

  // Evaluates the workspaces that may be due at `now` (truncated to the minute, as Coder's
  // ticks are); the store's candidate query keeps a quiet tick from reading every workspace.
  LifecycleStats tick(TimePoint now);

 private:
  void evaluate(const store::WorkspaceRow& workspace, TimePoint now, LifecycleStats& stats);

  store::Store& store_;
  Workspaces& workspaces_;
  const Clock& clock_;
  std::string holder_;
};

// Runs an executor's tick every `interval` of the clock's time on its own thread.
class LifecycleTicker {
 public:
  LifecycleTicker(LifecycleExecutor& executor, const Clock& clock,
                  std::chrono::milliseconds interval);
  ~LifecycleTicker();
  LifecycleTicker(const LifecycleTicker&) = delete;
  LifecycleTicker& operator=(const LifecycleTicker&) = delete;

  void start();
  void stop();

 private:
  LifecycleExecutor& executor_;
  const Clock& clock_;
  std::chrono::milliseconds interval_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace berth::coderd
