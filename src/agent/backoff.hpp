#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace berth::agent {

// Reconnect delays: exponential from `initial`, capped at `max`, with "equal jitter" (each
// delay is uniform in [d/2, d]) so that agents cut off together do not return together.
class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max, std::uint64_t seed);
  std::chrono::milliseconds next();
  // After a connection that held: start again from `initial`.
  void reset() { attempt_ = 0; }

 private:
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds max_;
  int attempt_ = 0;
  std::mt19937_64 random_;
};

}  // namespace berth::agent
