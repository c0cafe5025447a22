#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace berth::agentapi {

using SteadyTime = std::chrono::steady_clock::time_point;

// Decides whether a screen has settled: stable once it has been seen unchanged for `window`.
// Time is passed in by the caller (from an injected Clock), so tests need no sleeps.
class StabilityTracker {
 public:
  explicit StabilityTracker(std::chrono::milliseconds window) : window_(window) {}

  // Records the screen as seen at `now`; true when it differs from the previous snapshot.
  bool observe(const std::string& screen, SteadyTime now);
  // Restarts the window without a screen change (input was just sent).
  void touch(SteadyTime now) { last_change_ = now; }
  bool stable(SteadyTime now) const;
  const std::string& screen() const { return screen_; }

 private:
  std::chrono::milliseconds window_;
  std::string screen_;
  std::optional<SteadyTime> last_change_;  // empty until the first snapshot
};

}  // namespace berth::agentapi
