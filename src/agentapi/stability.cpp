#include "agentapi/stability.hpp"

namespace berth::agentapi {

bool StabilityTracker::observe(const std::string& screen, SteadyTime now) {
  // The first snapshot starts the window even when the screen is still blank: a program that
  // prints nothing is stable after one window, not never.
  if (!last_change_) {
    last_change_ = now;
    screen_ = screen;
    return true;
  }
  if (screen == screen_) return false;
  screen_ = screen;
  last_change_ = now;
  return true;
}

bool StabilityTracker::stable(SteadyTime now) const {
  return last_change_ && now - *last_change_ >= window_;
}

}  // namespace berth::agentapi
