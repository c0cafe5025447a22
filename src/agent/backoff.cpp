#include "agent/backoff.hpp"

#include <algorithm>

namespace berth::agent {

Backoff::Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max,
                 std::uint64_t seed)
    : initial_(initial), max_(std::max(initial, max)), random_(seed) {}

std::chrono::milliseconds Backoff::next() {
  auto ceiling = initial_;
  for (int i = 0; i < attempt_ && ceiling < max_; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, max_);
  if (attempt_ < 62) ++attempt_;
  std::uniform_int_distribution<std::int64_t> pick(ceiling.count() / 2, ceiling.count());
  return std::chrono::milliseconds(pick(random_));
}

}  // namespace berth::agent
