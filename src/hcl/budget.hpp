#pragma once

#include <cstddef>

#include "common/json.hpp"
#include "hcl/ast.hpp"

namespace berth::hcl {

// One template's evaluation (its modules included) stops past these: far above what real
// templates use (thousands of values, a few MiB), far below what exhausts the server.
inline constexpr std::size_t kMaxEvalValues = 10'000'000;
inline constexpr std::size_t kMaxEvalBytes = std::size_t{256} << 20;

// What an evaluation has computed so far, shared by every expression, block and module of one
// template: each evaluated expression counts one value, and each string or collection that is
// built or copied counts its bytes, so that nested for expressions and repeated copies of a
// large value fail cleanly instead of taking gigabytes.
struct EvalBudget {
  std::size_t max_values = kMaxEvalValues;
  std::size_t max_bytes = kMaxEvalBytes;
  std::size_t values = 0;
  std::size_t bytes = 0;

  // Counts more values and bytes; throws Error{invalid} at `position` once past a limit.
  void charge(std::size_t more_values, std::size_t more_bytes, const Position& position);
  // Counts the bytes of `v` (see value_bytes).
  void charge_value(const json::value& v, const Position& position);
  // True once a limit has been passed: try() and can() must not swallow that error.
  bool exhausted() const { return values > max_values || bytes > max_bytes; }
};

// About how many bytes `v` occupies: its strings plus a fixed cost per value. Stops counting
// once past `limit`, so that measuring a huge value is cheap.
std::size_t value_bytes(const json::value& v, std::size_t limit);

}  // namespace berth::hcl
