#pragma once

// Lenient readers of fields in documents a Berth or Coder server wrote, for the sdk's
// from_json functions: a missing field or one of the wrong type reads as its zero value.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/json.hpp"
#include "sdk/workspace_enums.hpp"

namespace berth::sdk::fields {

inline const json::value* find(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it == o.end() ? nullptr : &it->value();
}

inline std::string string(const json::object& o, std::string_view key) {
  auto* v = find(o, key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

inline std::optional<std::string> optional_string(const json::object& o, std::string_view key) {
  auto* v = find(o, key);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string(v->get_string());
}

inline std::int64_t integer(const json::object& o, std::string_view key) {
  auto* v = find(o, key);
  if (!v) return 0;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return std::int64_t(v->get_uint64());
  if (v->is_double()) return std::int64_t(v->get_double());
  return 0;
}

inline std::optional<std::int64_t> optional_integer(const json::object& o, std::string_view key) {
  auto* v = find(o, key);
  if (!v || !(v->is_int64() || v->is_uint64() || v->is_double())) return std::nullopt;
  return integer(o, key);
}

inline bool boolean(const json::object& o, std::string_view key) {
  auto* v = find(o, key);
  return v && v->is_bool() && v->get_bool();
}

inline Uuid uuid(const json::object& o, std::string_view key) {
  return Uuid::parse(string(o, key)).value_or(Uuid{});
}

inline std::optional<Uuid> optional_uuid(const json::object& o, std::string_view key) {
  return Uuid::parse(string(o, key));
}

inline TimePoint time(const json::object& o, std::string_view key) {
  return parse_rfc3339(string(o, key)).value_or(TimePoint{});
}

inline std::optional<TimePoint> optional_time(const json::object& o, std::string_view key) {
  auto text = optional_string(o, key);
  return text ? parse_rfc3339(*text) : std::nullopt;
}

inline const json::object& object(const json::object& o, std::string_view key) {
  static const json::object kEmpty;
  auto* v = find(o, key);
  return v && v->is_object() ? v->get_object() : kEmpty;
}

inline const json::array& array(const json::object& o, std::string_view key) {
  static const json::array kEmpty;
  auto* v = find(o, key);
  return v && v->is_array() ? v->get_array() : kEmpty;
}

// An enum field; `fallback` when absent or not one of its wire strings.
template <WireEnum E>
E enumeration(const json::object& o, std::string_view key, E fallback) {
  return parse<E>(string(o, key)).value_or(fallback);
}

}  // namespace berth::sdk::fields
