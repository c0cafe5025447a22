#include "hcl/budget.hpp"

#include <limits>
#include <string>

namespace berth::hcl {

namespace {

// A json::value and its allocation, roughly; what a value costs beyond its characters.
constexpr std::size_t kBytesPerValue = 32;

std::size_t saturating_add(std::size_t a, std::size_t b) {
  return a > std::numeric_limits<std::size_t>::max() - b ? std::numeric_limits<std::size_t>::max()
                                                         : a + b;
}

std::string describe_bytes(std::size_t bytes) {
  if (bytes % (1 << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  return std::to_string(bytes) + " bytes";
}

void add_bytes(const json::value& v, std::size_t limit, std::size_t& total) {
  total = saturating_add(total, kBytesPerValue);
  if (v.is_string()) total = saturating_add(total, v.get_string().size());
  if (v.is_array())
    for (const auto& e : v.get_array()) {
      if (total > limit) return;
      add_bytes(e, limit, total);
    }
  if (v.is_object())
    for (const auto& [k, e] : v.get_object()) {
      if (total > limit) return;
      total = saturating_add(total, k.size());
      add_bytes(e, limit, total);
    }
}

}  // namespace

void EvalBudget::charge(std::size_t more_values, std::size_t more_bytes, const Position& position) {
  values = saturating_add(values, more_values);
  bytes = saturating_add(bytes, more_bytes);
  if (values > max_values)
    fail_at(position, "the evaluation exceeds " + std::to_string(max_values) +
                          " values, the limit for one template");
  if (bytes > max_bytes)
    fail_at(position,
            "the evaluation exceeds " + describe_bytes(max_bytes) + ", the limit for one template");
}

void EvalBudget::charge_value(const json::value& v, const Position& position) {
  std::size_t left = bytes < max_bytes ? max_bytes - bytes : 0;
  charge(0, value_bytes(v, left), position);
}

std::size_t value_bytes(const json::value& v, std::size_t limit) {
  std::size_t total = 0;
  add_bytes(v, limit, total);
  return total;
}

}  // namespace berth::hcl
