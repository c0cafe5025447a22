#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/json.hpp"

namespace berth::hcl {

// Terraform's names for a value's type, for error messages: string, number, bool, null,
// list, object.
std::string type_name(const json::value& v);

bool is_number(const json::value& v);
double to_double(const json::value& v);
// Numbers as Terraform prints them: 1 → "1", 1.5 → "1.5", 1e+21 → "1e+21".
std::string format_number(const json::value& v);
// uint64 becomes int64 when it fits, else double; other values are unchanged.
json::value normalize_number(const json::value& v);
// True when `v` is or contains an infinite or NaN number (JSON text such as 1e400 decodes to
// one): such a value cannot be written back as JSON, so the evaluator never lets one out.
bool has_non_finite_number(const json::value& v);

// Deep equality where numbers compare by value (1 == 1.0).
bool values_equal(const json::value& a, const json::value& b);
// Total order for sort(): numbers by value, strings bytewise.
bool value_less(const json::value& a, const json::value& b);

// The distinct elements of `list`, in first-seen order (equal as values_equal decides).
json::array distinct_values(const json::array& list);
// A set as Terraform orders it: distinct elements, sorted when they are all strings.
json::array to_set(const json::array& list);

// Terraform's automatic conversions; nullopt when the value does not convert.
std::optional<std::string> as_string(const json::value& v);
std::optional<json::value> as_number(const json::value& v);
std::optional<bool> as_bool(const json::value& v);

// A JSON string value from any character data.
inline json::value make_string(std::string_view s) {
  return json::value(boost::json::string_view(s.data(), s.size()));
}

// jsonencode(): compact, object keys sorted, <>& escaped as Go's encoder does.
std::string encode_json(const json::value& v);

}  // namespace berth::hcl
