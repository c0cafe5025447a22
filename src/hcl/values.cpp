#include "hcl/values.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <unordered_set>
#include <vector>

namespace berth::hcl {

std::string type_name(const json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null:
      return "null";
    case boost::json::kind::bool_:
      return "bool";
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
    case boost::json::kind::double_:
      return "number";
    case boost::json::kind::string:
      return "string";
    case boost::json::kind::array:
      return "list";
    case boost::json::kind::object:
      return "object";
  }
  return "unknown";
}

bool is_number(const json::value& v) {
  return v.is_int64() || v.is_uint64() || v.is_double();
}

double to_double(const json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return v.get_double();
}

std::string format_number(const json::value& v) {
  if (v.is_int64()) return std::to_string(v.get_int64());
  if (v.is_uint64()) return std::to_string(v.get_uint64());
  double d = v.get_double();
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
  // Terraform prints numbers in positional notation, never with an exponent.
  char buffer[400];
  auto r = std::to_chars(buffer, buffer + sizeof buffer, d, std::chars_format::fixed);
  return std::string(buffer, r.ptr);
}

json::value normalize_number(const json::value& v) {
  if (v.is_uint64()) {
    std::uint64_t u = v.get_uint64();
    if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      return static_cast<std::int64_t>(u);
    return static_cast<double>(u);
  }
  if (v.is_array()) {
    json::array out;
    for (const auto& e : v.get_array()) out.push_back(normalize_number(e));
    return out;
  }
  if (v.is_object()) {
    json::object out;
    for (const auto& [k, e] : v.get_object()) out[k] = normalize_number(e);
    return out;
  }
  return v;
}

bool has_non_finite_number(const json::value& v) {
  if (v.is_double()) return !std::isfinite(v.get_double());
  if (const auto* a = v.if_array())
    return std::any_of(a->begin(), a->end(),
                       [](const auto& e) { return has_non_finite_number(e); });
  if (const auto* o = v.if_object())
    return std::any_of(o->begin(), o->end(),
                       [](const auto& e) { return has_non_finite_number(e.value()); });
  return false;
}

bool values_equal(const json::value& a, const json::value& b) {
  if (is_number(a) && is_number(b)) {
    if (a.is_int64() && b.is_int64()) return a.get_int64() == b.get_int64();
    return to_double(a) == to_double(b);
  }
  if (a.kind() != b.kind()) return false;
  if (a.is_array()) {
    const auto &x = a.get_array(), &y = b.get_array();
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i)
      if (!values_equal(x[i], y[i])) return false;
    return true;
  }
  if (a.is_object()) {
    const auto &x = a.get_object(), &y = b.get_object();
    if (x.size() != y.size()) return false;
    for (const auto& [k, e] : x) {
      const json::value* other = y.if_contains(k);
      if (!other || !values_equal(e, *other)) return false;
    }
    return true;
  }
  return a == b;
}

bool value_less(const json::value& a, const json::value& b) {
  if (is_number(a) && is_number(b)) return to_double(a) < to_double(b);
  if (a.is_string() && b.is_string()) return a.get_string() < b.get_string();
  return static_cast<int>(a.kind()) < static_cast<int>(b.kind());
}

json::array distinct_values(const json::array& list) {
  // Keyed by the canonical JSON text (sorted keys, numbers by value) rather than compared pair
  // by pair, so that toset() of a long list is not quadratic.
  std::unordered_set<std::string> seen;
  json::array out;
  for (const auto& e : list)
    if (seen.insert(encode_json(e)).second) out.push_back(e);
  return out;
}

json::array to_set(const json::array& list) {
  json::array out = distinct_values(list);
  if (std::all_of(out.begin(), out.end(), [](const auto& e) { return e.is_string(); }))
    std::sort(out.begin(), out.end(), value_less);
  return out;
}

std::optional<std::string> as_string(const json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (is_number(v)) return format_number(v);
  if (v.is_bool()) return v.get_bool() ? "true" : "false";
  return std::nullopt;
}

std::optional<json::value> as_number(const json::value& v) {
  if (is_number(v)) return normalize_number(v);
  if (!v.is_string()) return std::nullopt;
  std::string_view s = v.get_string();
  if (s.empty()) return std::nullopt;
  std::int64_t i = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), i);
  if (r.ec == std::errc{} && r.ptr == s.data() + s.size()) return json::value(i);
  double d = 0;
  r = std::from_chars(s.data(), s.data() + s.size(), d);
  if (r.ec == std::errc{} && r.ptr == s.data() + s.size() && std::isfinite(d))
    return json::value(d);
  return std::nullopt;
}

std::optional<bool> as_bool(const json::value& v) {
  if (v.is_bool()) return v.get_bool();
  if (v.is_string()) {
    if (v.get_string() == "true") return true;
    if (v.get_string() == "false") return false;
  }
  return std::nullopt;
}

namespace {

void encode_string(std::string& out, std::string_view s) {
  static const char* kHex = "0123456789abcdef";
  out += '"';
  for (std::size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == '<' || c == '>' || c == '&') {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
                   (static_cast<unsigned char>(s[i + 2]) == 0xA8 ||
                    static_cast<unsigned char>(s[i + 2]) == 0xA9)) {
          out += static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029";
          i += 2;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

void encode(std::string& out, const json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null:
      out += "null";
      return;
    case boost::json::kind::bool_:
      out += v.get_bool() ? "true" : "false";
      return;
    case boost::json::kind::string:
      encode_string(out, v.get_string());
      return;
    case boost::json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out += ',';
        first = false;
        encode(out, e);
      }
      out += ']';
      return;
    }
    case boost::json::kind::object: {
      std::vector<const boost::json::key_value_pair*> entries;
      for (const auto& kv : v.get_object()) entries.push_back(&kv);
      std::sort(entries.begin(), entries.end(),
                [](auto* a, auto* b) { return a->key() < b->key(); });
      out += '{';
      bool first = true;
      for (const auto* kv : entries) {
        if (!first) out += ',';
        first = false;
        encode_string(out, kv->key());
        out += ':';
        encode(out, kv->value());
      }
      out += '}';
      return;
    }
    default:
      out += format_number(v);
  }
}

}  // namespace

std::string encode_json(const json::value& v) {
  std::string out;
  encode(out, v);
  return out;
}

}  // namespace berth::hcl
