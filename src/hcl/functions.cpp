#include "hcl/functions.hpp"

#include <openssl/evp.h>
#include <boost/json/parse.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <unordered_map>
#include <unordered_set>

#include "common/crypto.hpp"
#include "common/regex.hpp"
#include "common/utf8.hpp"
#include "common/uuid.hpp"
#include "hcl/values.hpp"

namespace berth::hcl {

namespace {

// range() and format() widths stop here, as Terraform's range() does at 1024 elements.
constexpr std::size_t kMaxRangeElements = 1024;
constexpr std::int64_t kMaxFormatWidth = 4096;
// RE2 matches in linear time; subjects stay below this so that regexall's results stay small.
constexpr std::size_t kMaxRegexSubject = 1024 * 1024;
constexpr std::size_t kMaxRegexMatches = 100000;
constexpr std::size_t kMaxJsonDepth = 128;
// What one element of a list costs beyond its characters, for reserve(): a json::value.
constexpr std::size_t kBytesPerElement = 32;

// Typed access to a function's arguments, with errors that name the function and position.
class Args {
 public:
  Args(const std::string& name, std::vector<json::value>& values, const Position& position,
       const FunctionEnvironment& environment)
      : name_(name),
        values_(values),
        position_(position),
        environment_(environment),
        budget_(environment.budget ? environment.budget : &own_budget_) {}

  [[noreturn]] void fail(const std::string& what) const {
    fail_at(position_, "invalid call to " + name_ + "(): " + what);
  }
  void count(std::size_t min, std::size_t max) const {
    if (values_.size() < min || values_.size() > max) {
      std::string expected = min == max ? std::to_string(min)
                             : max == std::numeric_limits<std::size_t>::max()
                                 ? "at least " + std::to_string(min)
                                 : std::to_string(min) + " to " + std::to_string(max);
      fail("expected " + expected + " argument" + (min == 1 && max == 1 ? "" : "s") + ", got " +
           std::to_string(values_.size()));
    }
  }
  void count(std::size_t n) const { count(n, n); }
  void at_least(std::size_t n) const { count(n, std::numeric_limits<std::size_t>::max()); }
  std::size_t size() const { return values_.size(); }
  json::value& operator[](std::size_t i) { return values_[i]; }
  const Position& position() const { return position_; }
  const FunctionEnvironment& environment() const { return environment_; }
  // Charges the evaluation's budget for a result about to be built, before building it: a
  // call may otherwise allocate far more than its arguments cost (a join of copies of a long
  // string, indent() of many lines).
  void reserve(std::size_t bytes) const { budget_->charge(0, bytes, position_); }

  std::string str(std::size_t i) const {
    auto s = as_string(values_[i]);
    if (!s) wrong(i, "a string");
    return *s;
  }
  json::value num(std::size_t i) const {
    auto n = as_number(values_[i]);
    if (!n) wrong(i, "a number");
    return *n;
  }
  double dbl(std::size_t i) const { return to_double(num(i)); }
  std::int64_t integer(std::size_t i) const {
    json::value n = num(i);
    if (n.is_int64()) return n.get_int64();
    double d = n.get_double();
    if (d != std::floor(d) || std::fabs(d) > 9e18) wrong(i, "a whole number");
    return static_cast<std::int64_t>(d);
  }
  bool boolean(std::size_t i) const {
    auto b = as_bool(values_[i]);
    if (!b) wrong(i, "a bool");
    return *b;
  }
  const json::array& list(std::size_t i) const {
    if (!values_[i].is_array()) wrong(i, "a list");
    return values_[i].get_array();
  }
  const json::object& object(std::size_t i) const {
    if (!values_[i].is_object()) wrong(i, "a map or object");
    return values_[i].get_object();
  }

 private:
  [[noreturn]] void wrong(std::size_t i, const std::string& expected) const {
    fail("argument " + std::to_string(i + 1) + " must be " + expected + ", got " +
         type_name(values_[i]));
  }

  const std::string& name_;
  std::vector<json::value>& values_;
  const Position& position_;
  const FunctionEnvironment& environment_;
  EvalBudget own_budget_;  // for callers without one: bounds this call alone
  EvalBudget* budget_;
};

// A function's return value; lets the table's lambdas return std::string directly.
struct Result {
  template <typename T>
  Result(T&& x) {  // NOLINT: implicit by design
    if constexpr (std::is_convertible_v<T, std::string_view> &&
                  !std::is_same_v<std::decay_t<T>, json::value> &&
                  !std::is_same_v<std::decay_t<T>, std::nullptr_t>)
      v = make_string(std::string_view(x));
    else
      v = json::value(std::forward<T>(x));
  }
  json::value v;
};

using Function = Result (*)(Args&);

// Byte offsets where each UTF-8 code point starts, plus the end.
std::vector<std::size_t> code_points(std::string_view s) {
  std::vector<std::size_t> starts;
  for (std::size_t i = 0; i < s.size(); ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) starts.push_back(i);
  starts.push_back(s.size());
  return starts;
}

json::value number_result(double d) {
  if (d == std::floor(d) && std::fabs(d) < 9e18) return static_cast<std::int64_t>(d);
  return d;
}

json::value strings_to_list(const std::vector<std::string>& items) {
  json::array out;
  for (const auto& s : items) out.emplace_back(s);
  return out;
}

std::vector<const boost::json::key_value_pair*> sorted_entries(const json::object& o) {
  std::vector<const boost::json::key_value_pair*> entries;
  for (const auto& kv : o) entries.push_back(&kv);
  std::sort(entries.begin(), entries.end(), [](auto* a, auto* b) { return a->key() < b->key(); });
  return entries;
}

bool contains_value(const json::array& list, const json::value& v) {
  return std::any_of(list.begin(), list.end(), [&](const auto& e) { return values_equal(e, v); });
}

std::string ascii_map(std::string s, int (*f)(int)) {
  for (auto& c : s)
    if (static_cast<unsigned char>(c) < 0x80) c = static_cast<char>(f(c));
  return s;
}

std::string trim_set(std::string_view s, std::string_view set, bool left, bool right) {
  std::size_t b = 0, e = s.size();
  while (left && b < e && set.find(s[b]) != std::string_view::npos) ++b;
  while (right && e > b && set.find(s[e - 1]) != std::string_view::npos) --e;
  return std::string(s.substr(b, e - b));
}

Regex compile_regex(Args& a, const std::string& pattern) {
  try {
    return Regex(pattern);
  } catch (const Error& e) {
    a.fail(e.message());
  }
}

void check_regex_subject(Args& a, const std::string& s) {
  if (s.size() > kMaxRegexSubject)
    a.fail("the string is longer than " + std::to_string(kMaxRegexSubject) +
           " bytes, the limit for regular expressions");
}

// Terraform's result for one match: the match itself without groups, else the groups (a group
// that did not take part is null).
json::value match_result(const Regex::Match& m) {
  if (m.size() == 1) return json::value(*m[0]);
  json::array groups;
  for (std::size_t i = 1; i < m.size(); ++i) {
    if (m[i])
      groups.emplace_back(*m[i]);
    else
      groups.emplace_back(nullptr);
  }
  return groups;
}

std::string digest(Args& a, const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (!EVP_Digest(data.data(), data.size(), out, &size, md, nullptr)) a.fail("hashing failed");
  return to_hex(std::string_view(reinterpret_cast<const char*>(out), size));
}

constexpr const char* kBase64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    std::uint32_t n = (static_cast<unsigned char>(in[i]) << 16) |
                      (static_cast<unsigned char>(in[i + 1]) << 8) |
                      static_cast<unsigned char>(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kBase64[(n >> s) & 63];
  }
  if (i < in.size()) {
    std::uint32_t n = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) n |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += kBase64[(n >> 18) & 63];
    out += kBase64[(n >> 12) & 63];
    out += i + 1 < in.size() ? kBase64[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view in) {
  if (in.size() % 4 != 0) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 4) {
    std::uint32_t n = 0;
    int pad = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      char c = in[i + j];
      int v;
      if (c == '=' && i + 4 == in.size() && j >= 2) {
        v = 0;
        ++pad;
      } else {
        const char* p = c ? std::strchr(kBase64, c) : nullptr;
        if (!p || pad) return std::nullopt;
        v = static_cast<int>(p - kBase64);
      }
      n = (n << 6) | static_cast<std::uint32_t>(v);
    }
    out += static_cast<char>((n >> 16) & 0xFF);
    if (pad < 2) out += static_cast<char>((n >> 8) & 0xFF);
    if (pad < 1) out += static_cast<char>(n & 0xFF);
  }
  return out;
}

void flatten_into(json::array& out, const json::array& list) {
  for (const auto& e : list) {
    if (e.is_array())
      flatten_into(out, e.get_array());
    else
      out.push_back(e);
  }
}

std::string pad(std::string s, std::int64_t width, bool left_justify, char fill) {
  std::int64_t length = static_cast<std::int64_t>(code_points(s).size()) - 1;
  if (width <= length) return s;
  std::string padding(static_cast<std::size_t>(width - length), fill);
  if (left_justify) return s + std::string(padding.size(), ' ');
  if (fill == '0' && !s.empty() && (s[0] == '-' || s[0] == '+'))
    return s[0] + padding + s.substr(1);
  return padding + s;
}

Result format(Args& a) {
  a.at_least(1);
  std::string spec = a.str(0), out;
  std::size_t next = 1;
  for (std::size_t i = 0; i < spec.size(); ++i) {
    if (spec[i] != '%') {
      out += spec[i];
      continue;
    }
    if (++i < spec.size() && spec[i] == '%') {
      out += '%';
      continue;
    }
    bool left = false, plus = false, zero = false, sharp = false;
    for (; i < spec.size(); ++i) {
      if (spec[i] == '-')
        left = true;
      else if (spec[i] == '+')
        plus = true;
      else if (spec[i] == '0')
        zero = true;
      else if (spec[i] == '#')
        sharp = true;
      else if (spec[i] != ' ')
        break;
    }
    std::int64_t width = 0, precision = -1;
    for (; i < spec.size() && std::isdigit(static_cast<unsigned char>(spec[i])); ++i)
      width = std::min(width * 10 + (spec[i] - '0'), kMaxFormatWidth);
    if (i < spec.size() && spec[i] == '.') {
      precision = 0;
      for (++i; i < spec.size() && std::isdigit(static_cast<unsigned char>(spec[i])); ++i)
        precision = std::min(precision * 10 + (spec[i] - '0'), kMaxFormatWidth);
    }
    if (i >= spec.size()) a.fail("format string ends in the middle of a verb");
    char verb = spec[i];
    if (next >= a.size()) a.fail(std::string("not enough arguments for %") + verb);
    std::size_t arg = next++;
    const json::value& v = a[arg];
    std::string text;
    char fill = zero && !left ? '0' : ' ';
    switch (verb) {
      case 'd': {
        std::int64_t n = a.integer(arg);
        text = (plus && n >= 0 ? "+" : "") + std::to_string(n);
        break;
      }
      case 'f':
      case 'e':
      case 'g': {
        double d = a.dbl(arg);
        std::string fmt = plus ? "%+.*" : "%.*";
        fmt += verb;
        int p = static_cast<int>(precision < 0 ? 6 : precision);
        int n = std::snprintf(nullptr, 0, fmt.c_str(), p, d);
        text.resize(static_cast<std::size_t>(n) + 1);
        std::snprintf(text.data(), text.size(), fmt.c_str(), p, d);
        text.pop_back();
        break;
      }
      case 's': {
        text = a.str(arg);
        if (precision >= 0) {
          auto cps = code_points(text);
          if (static_cast<std::size_t>(precision) + 1 < cps.size())
            text.resize(cps[static_cast<std::size_t>(precision)]);
        }
        fill = ' ';
        break;
      }
      case 'q':
        text = encode_json(json::value(a.str(arg)));
        fill = ' ';
        break;
      case 't':
        text = a.boolean(arg) ? "true" : "false";
        break;
      case 'v':
        if (!sharp && (v.is_string() || v.is_bool() || is_number(v)))
          text = *as_string(v);
        else
          text = encode_json(v);
        break;
      case 'x':
      case 'X':
      case 'o':
      case 'b': {
        std::int64_t n = a.integer(arg);
        std::uint64_t u =
            n < 0 ? static_cast<std::uint64_t>(-(n + 1)) + 1 : static_cast<std::uint64_t>(n);
        int base = verb == 'o' ? 8 : verb == 'b' ? 2 : 16;
        const char* digits = verb == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
        do {
          text.insert(text.begin(), digits[u % static_cast<std::uint64_t>(base)]);
          u /= static_cast<std::uint64_t>(base);
        } while (u);
        if (n < 0) text.insert(text.begin(), '-');
        break;
      }
      default:
        a.fail(std::string("unsupported format verb %") + verb);
    }
    std::string piece = pad(std::move(text), width, left, fill);
    a.reserve(piece.size());
    out += piece;
  }
  if (next < a.size())
    a.fail("too many arguments; the format string uses " + std::to_string(next - 1) + ", got " +
           std::to_string(a.size() - 1));
  return out;
}

Result convert_list(Args& a, bool as_set) {
  a.count(1);
  if (a[0].is_null()) return nullptr;
  if (!as_set) return a.list(0);
  return to_set(a.list(0));
}

Result min_max(Args& a, bool max) {
  a.at_least(1);
  json::value best = a.num(0);
  for (std::size_t i = 1; i < a.size(); ++i) {
    json::value n = a.num(i);
    if (max ? value_less(best, n) : value_less(n, best)) best = n;
  }
  return best;
}

Result range(Args& a) {
  a.count(1, 3);
  double start = 0, limit, step = 1;
  if (a.size() == 1) {
    limit = a.dbl(0);
  } else {
    start = a.dbl(0);
    limit = a.dbl(1);
    if (a.size() == 3)
      step = a.dbl(2);
    else if (limit < start)
      step = -1;
  }
  if (step == 0) a.fail("step must not be zero");
  if ((step > 0 && limit < start) || (step < 0 && limit > start))
    a.fail("step has the wrong sign for the range");
  json::array out;
  for (double x = start; step > 0 ? x < limit : x > limit; x += step) {
    if (out.size() >= kMaxRangeElements)
      a.fail("more than " + std::to_string(kMaxRangeElements) + " elements");
    out.push_back(number_result(x));
  }
  return out;
}

Result regex_function(Args& a, bool all) {
  a.count(2);
  std::string pattern = a.str(0), subject = a.str(1);
  check_regex_subject(a, subject);
  Regex re = compile_regex(a, pattern);
  if (!all) {
    auto m = re.find(subject);
    if (!m) a.fail("pattern did not match any part of the string");
    return match_result(*m);
  }
  json::array out;
  for (const auto& m : re.find_all(subject, kMaxRegexMatches)) out.push_back(match_result(m));
  return out;
}

Result replace(Args& a) {
  a.count(3);
  std::string s = a.str(0), search = a.str(1), replacement = a.str(2);
  if (search.size() >= 2 && search.front() == '/' && search.back() == '/') {
    check_regex_subject(a, s);
    Regex re = compile_regex(a, search.substr(1, search.size() - 2));
    // Each match becomes the replacement, whose $1 or ${name} may each expand to the whole
    // subject.
    std::size_t matches = re.find_all(s, kMaxRegexMatches).size();
    std::size_t expansions =
        static_cast<std::size_t>(std::count(replacement.begin(), replacement.end(), '$'));
    a.reserve(s.size() + matches * (replacement.size() + expansions * s.size()));
    return re.replace_all(s, replacement);
  }
  if (search.empty()) return s;
  if (replacement.size() > search.size()) {
    std::size_t matches = 0;
    for (std::size_t at = s.find(search); at != std::string::npos;
         at = s.find(search, at + search.size()))
      ++matches;
    a.reserve(s.size() + matches * (replacement.size() - search.size()));
  }
  std::string out;
  std::size_t at = 0;
  for (std::size_t found; (found = s.find(search, at)) != std::string::npos;
       at = found + search.size()) {
    out.append(s, at, found - at);
    out += replacement;
  }
  out.append(s, at);
  return out;
}

Result split(Args& a) {
  a.count(2);
  std::string separator = a.str(0), s = a.str(1);
  std::vector<std::string> parts;
  if (separator.empty()) {
    auto cps = code_points(s);
    a.reserve(s.size() + cps.size() * kBytesPerElement);
    for (std::size_t i = 0; i + 1 < cps.size(); ++i)
      parts.push_back(s.substr(cps[i], cps[i + 1] - cps[i]));
    return strings_to_list(parts);
  }
  std::size_t pieces = 1;
  for (std::size_t at = s.find(separator); at != std::string::npos;
       at = s.find(separator, at + separator.size()))
    ++pieces;
  a.reserve(s.size() + pieces * kBytesPerElement);
  std::size_t at = 0;
  for (std::size_t found; (found = s.find(separator, at)) != std::string::npos;
       at = found + separator.size())
    parts.push_back(s.substr(at, found - at));
  parts.push_back(s.substr(at));
  return strings_to_list(parts);
}

Result join(Args& a) {
  a.at_least(2);
  std::string separator = a.str(0), out;
  std::size_t size = 0;
  for (std::size_t i = 1; i < a.size(); ++i)
    for (const auto& e : a.list(i))
      size += separator.size() + (e.is_string() ? e.get_string().size() : kBytesPerElement);
  a.reserve(size);
  bool first = true;
  for (std::size_t i = 1; i < a.size(); ++i) {
    for (const auto& e : a.list(i)) {
      auto s = as_string(e);
      if (!s) a.fail("list elements must be strings, got " + type_name(e));
      if (!first) out += separator;
      first = false;
      out += *s;
    }
  }
  return out;
}

Result substr(Args& a) {
  a.count(3);
  std::string s = a.str(0);
  std::int64_t offset = a.integer(1), length = a.integer(2);
  auto cps = code_points(s);
  auto n = static_cast<std::int64_t>(cps.size()) - 1;
  if (offset < 0) offset = std::max<std::int64_t>(0, n + offset);
  if (offset > n) a.fail("offset is beyond the end of the string");
  std::int64_t end = length < 0 ? n : std::min(n, offset + length);
  return s.substr(cps[static_cast<std::size_t>(offset)],
                  cps[static_cast<std::size_t>(end)] - cps[static_cast<std::size_t>(offset)]);
}

Result length(Args& a) {
  a.count(1);
  const json::value& v = a[0];
  if (v.is_string()) return static_cast<std::int64_t>(code_points(v.get_string()).size() - 1);
  if (v.is_array()) return static_cast<std::int64_t>(v.get_array().size());
  if (v.is_object()) return static_cast<std::int64_t>(v.get_object().size());
  a.fail("argument must be a string, list or map, got " + type_name(v));
}

Result lookup(Args& a) {
  a.count(2, 3);
  const json::object& o = a.object(0);
  if (const json::value* v = o.if_contains(a.str(1))) return *v;
  if (a.size() == 3) return a[2];
  a.fail("the map has no key \"" + a.str(1) + "\" and no default was given");
}

Result element(Args& a) {
  a.count(2);
  const json::array& list = a.list(0);
  std::int64_t i = a.integer(1);
  if (list.empty()) a.fail("cannot use element() with an empty list");
  if (i < 0) a.fail("cannot use element() with a negative index");
  return list[static_cast<std::size_t>(i % static_cast<std::int64_t>(list.size()))];
}

Result slice(Args& a) {
  a.count(3);
  const json::array& list = a.list(0);
  std::int64_t start = a.integer(1), end = a.integer(2);
  if (start < 0 || end < start || end > static_cast<std::int64_t>(list.size()))
    a.fail("indexes out of range for a list of " + std::to_string(list.size()) + " elements");
  return json::array(list.begin() + start, list.begin() + end);
}

Result coalesce(Args& a) {
  a.at_least(1);
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!a[i].is_null() && !(a[i].is_string() && a[i].get_string().empty())) return a[i];
  a.fail("no non-null, non-empty-string arguments");
}

Result jsondecode(Args& a) {
  a.count(1);
  boost::json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  boost::system::error_code ec;
  std::string text = a.str(0);
  // "[[],[],…]" spends two characters per value, and a value costs about 32 bytes.
  a.reserve(text.size() * 16);
  json::value v = boost::json::parse(text, ec, {}, options);
  if (ec) a.fail("invalid JSON: " + ec.message());
  if (has_non_finite_number(v)) a.fail("invalid JSON: a number is out of range");
  return normalize_number(v);
}

Result merge(Args& a) {
  json::object out;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].is_null()) continue;
    for (const auto& [k, v] : a.object(i)) out[k] = v;
  }
  return out;
}

Result zipmap(Args& a) {
  a.count(2);
  const json::array &keys = a.list(0), &values = a.list(1);
  if (keys.size() != values.size()) a.fail("the lists must have the same length");
  json::object out;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    auto k = as_string(keys[i]);
    if (!k) a.fail("keys must be strings");
    out[*k] = values[i];
  }
  return out;
}

Result indent(Args& a) {
  a.count(2);
  std::string prefix(
      static_cast<std::size_t>(std::clamp<std::int64_t>(a.integer(0), 0, kMaxFormatWidth)), ' ');
  std::string s = a.str(1), out;
  a.reserve(s.size() +
            static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')) * prefix.size());
  for (char c : s) {
    out += c;
    if (c == '\n') out += prefix;
  }
  return out;
}

Result title(Args& a) {
  a.count(1);
  std::string s = a.str(0);
  bool start = true;
  for (auto& c : s) {
    if (start && std::islower(static_cast<unsigned char>(c))) c = static_cast<char>(c - 32);
    start = std::isspace(static_cast<unsigned char>(c));
  }
  return s;
}

Result urlencode(Args& a) {
  a.count(1);
  std::string out;
  for (unsigned char c : a.str(0)) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      static const char* kHex = "0123456789ABCDEF";
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// The canonical JSON of each element: set membership that is neither quadratic nor fooled by
// 1 and 1.0.
std::unordered_set<std::string> element_keys(const json::array& list) {
  std::unordered_set<std::string> keys;
  for (const auto& e : list) keys.insert(encode_json(e));
  return keys;
}

// setunion, setintersection and setsubtract: the result is a set (distinct, strings sorted).
Result set_operation(Args& a, const std::string& operation) {
  if (operation == "setsubtract")
    a.count(2);
  else
    a.at_least(1);
  json::array out;
  if (operation == "setunion") {
    for (std::size_t i = 0; i < a.size(); ++i)
      for (const auto& e : a.list(i)) out.push_back(e);
    return to_set(out);
  }
  std::vector<std::unordered_set<std::string>> others;
  for (std::size_t i = 1; i < a.size(); ++i) others.push_back(element_keys(a.list(i)));
  for (const auto& e : a.list(0)) {
    std::string key = encode_json(e);
    bool in_all = std::all_of(others.begin(), others.end(),
                              [&](const auto& set) { return set.contains(key); });
    bool keep = operation == "setsubtract" ? !others[0].contains(key) : in_all;
    if (keep) out.push_back(e);
  }
  return to_set(out);
}

Result setproduct(Args& a) {
  a.at_least(2);
  std::size_t total = 1;
  for (std::size_t i = 0; i < a.size(); ++i) {
    total *= a.list(i).size();
    if (total > kMaxEvalValues)
      a.fail("the product has more than " + std::to_string(kMaxEvalValues) + " elements");
  }
  a.reserve(total * a.size() * kBytesPerElement);
  json::array out;
  for (std::size_t n = 0; n < total; ++n) {
    json::array combination;
    for (std::size_t i = 0, rest = n; i < a.size(); ++i) {
      const json::array& list = a.list(a.size() - 1 - i);
      combination.insert(combination.begin(), list[rest % list.size()]);
      rest /= list.size();
    }
    out.push_back(std::move(combination));
  }
  return out;
}

Result chunklist(Args& a) {
  a.count(2);
  const json::array& list = a.list(0);
  std::int64_t size = a.integer(1);
  if (size < 0) a.fail("the chunk size must not be negative");
  if (size == 0) return json::array{list};
  json::array out;
  for (std::size_t i = 0; i < list.size(); i += static_cast<std::size_t>(size))
    out.push_back(
        json::array(list.begin() + static_cast<std::ptrdiff_t>(i),
                    list.begin() + static_cast<std::ptrdiff_t>(
                                       std::min(list.size(), i + static_cast<std::size_t>(size)))));
  return out;
}

// formatlist("%s=%s", keys, values): format() once per element; lists must agree in length and
// other arguments repeat.
Result formatlist(Args& a) {
  a.at_least(1);
  std::optional<std::size_t> length;
  for (std::size_t i = 1; i < a.size(); ++i) {
    if (!a[i].is_array()) continue;
    if (length && *length != a[i].get_array().size())
      a.fail("all list arguments must have the same length");
    length = a[i].get_array().size();
  }
  json::array out;
  for (std::size_t n = 0; n < length.value_or(1); ++n) {
    std::vector<json::value> args{a[0]};
    for (std::size_t i = 1; i < a.size(); ++i)
      args.push_back(a[i].is_array() ? a[i].get_array()[n] : a[i]);
    Args one("formatlist", args, a.position(), a.environment());
    out.push_back(format(one).v);
  }
  return out;
}

// Go's filepath.Base and filepath.Dir on slash-separated paths.
Result basename(Args& a) {
  a.count(1);
  std::string p = a.str(0);
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  if (p.empty()) return ".";
  if (p == "/") return "/";
  return p.substr(p.rfind('/') == std::string::npos ? 0 : p.rfind('/') + 1);
}

Result dirname(Args& a) {
  a.count(1);
  std::string p = a.str(0);
  auto slash = p.rfind('/');
  if (slash == std::string::npos) return ".";
  std::string dir =
      std::filesystem::path(p.substr(0, slash + 1)).lexically_normal().generic_string();
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir.empty() ? "." : dir;
}

Result parseint(Args& a) {
  a.count(2);
  std::string s = a.str(0);
  std::int64_t base = a.integer(1);
  if (base < 2 || base > 62) a.fail("the base must be between 2 and 62");
  bool negative = !s.empty() && (s[0] == '-' || s[0] == '+');
  std::string_view digits = std::string_view(s).substr(negative ? 1 : 0);
  if (digits.empty())
    a.fail("cannot parse \"" + s + "\" as a base " + std::to_string(base) + " integer");
  std::int64_t n = 0;
  for (char c : digits) {
    int d = std::isdigit(static_cast<unsigned char>(c))   ? c - '0'
            : std::islower(static_cast<unsigned char>(c)) ? c - 'a' + 10
            : std::isupper(static_cast<unsigned char>(c)) ? c - 'A' + (base > 36 ? 36 : 10)
                                                          : 99;
    if (d >= base || __builtin_mul_overflow(n, base, &n) || __builtin_add_overflow(n, d, &n))
      a.fail("cannot parse \"" + s + "\" as a base " + std::to_string(base) + " integer");
  }
  return s[0] == '-' ? -n : n;
}

std::string raw_digest(Args& a, const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (!EVP_Digest(data.data(), data.size(), out, &size, md, nullptr)) a.fail("hashing failed");
  return std::string(reinterpret_cast<const char*>(out), size);
}

const std::unordered_map<std::string, Function>& functions() {
  static const std::unordered_map<std::string, Function> table = {
      {"lower",
       [](Args& a) -> Result {
         a.count(1);
         return ascii_map(a.str(0), ::tolower);
       }},
      {"upper",
       [](Args& a) -> Result {
         a.count(1);
         return ascii_map(a.str(0), ::toupper);
       }},
      {"title", title},
      {"trimspace",
       [](Args& a) -> Result {
         a.count(1);
         return trim_set(a.str(0), " \t\n\r\f\v", true, true);
       }},
      {"chomp",
       [](Args& a) -> Result {
         a.count(1);
         return trim_set(a.str(0), "\r\n", false, true);
       }},
      {"trim",
       [](Args& a) -> Result {
         a.count(2);
         return trim_set(a.str(0), a.str(1), true, true);
       }},
      {"trimprefix",
       [](Args& a) -> Result {
         a.count(2);
         std::string s = a.str(0), p = a.str(1);
         return s.starts_with(p) ? s.substr(p.size()) : s;
       }},
      {"trimsuffix",
       [](Args& a) -> Result {
         a.count(2);
         std::string s = a.str(0), p = a.str(1);
         return s.ends_with(p) ? s.substr(0, s.size() - p.size()) : s;
       }},
      {"startswith",
       [](Args& a) -> Result {
         a.count(2);
         return a.str(0).starts_with(a.str(1));
       }},
      {"endswith",
       [](Args& a) -> Result {
         a.count(2);
         return a.str(0).ends_with(a.str(1));
       }},
      {"strrev",
       [](Args& a) -> Result {
         a.count(1);
         std::string s = a.str(0), out;
         auto cps = code_points(s);
         for (std::size_t i = cps.size() - 1; i > 0; --i)
           out.append(s, cps[i - 1], cps[i] - cps[i - 1]);
         return out;
       }},
      {"indent", indent},
      {"join", join},
      {"split", split},
      {"replace", replace},
      {"format", format},
      {"substr", substr},
      {"regex", [](Args& a) { return regex_function(a, false); }},
      {"regexall", [](Args& a) { return regex_function(a, true); }},
      {"urlencode", urlencode},
      {"strcontains",
       [](Args& a) -> Result {
         a.count(2);
         return a.str(0).find(a.str(1)) != std::string::npos;
       }},
      {"basename", basename},
      {"dirname", dirname},
      {"tostring",
       [](Args& a) -> Result {
         a.count(1);
         if (a[0].is_null()) return nullptr;
         return a.str(0);
       }},
      {"tonumber",
       [](Args& a) -> Result {
         a.count(1);
         if (a[0].is_null()) return nullptr;
         return a.num(0);
       }},
      {"tobool",
       [](Args& a) -> Result {
         a.count(1);
         if (a[0].is_null()) return nullptr;
         return a.boolean(0);
       }},
      {"tolist", [](Args& a) { return convert_list(a, false); }},
      {"toset", [](Args& a) { return convert_list(a, true); }},
      {"tomap",
       [](Args& a) -> Result {
         a.count(1);
         if (a[0].is_null()) return nullptr;
         return a.object(0);
       }},
      {"length", length},
      {"coalesce", coalesce},
      {"coalescelist",
       [](Args& a) -> Result {
         a.at_least(1);
         for (std::size_t i = 0; i < a.size(); ++i)
           if (!a.list(i).empty()) return a[i];
         a.fail("no non-empty list arguments");
       }},
      {"contains",
       [](Args& a) -> Result {
         a.count(2);
         return contains_value(a.list(0), a[1]);
       }},
      {"index",
       [](Args& a) -> Result {
         a.count(2);
         const json::array& list = a.list(0);
         for (std::size_t i = 0; i < list.size(); ++i)
           if (values_equal(list[i], a[1])) return static_cast<std::int64_t>(i);
         a.fail("the item was not found in the list");
       }},
      {"concat",
       [](Args& a) -> Result {
         json::array out;
         for (std::size_t i = 0; i < a.size(); ++i)
           for (const auto& e : a.list(i)) out.push_back(e);
         return out;
       }},
      {"merge", merge},
      {"setunion", [](Args& a) { return set_operation(a, "setunion"); }},
      {"setintersection", [](Args& a) { return set_operation(a, "setintersection"); }},
      {"setsubtract", [](Args& a) { return set_operation(a, "setsubtract"); }},
      {"setproduct", setproduct},
      {"chunklist", chunklist},
      {"formatlist", formatlist},
      {"parseint", parseint},
      {"keys",
       [](Args& a) -> Result {
         a.count(1);
         json::array out;
         for (const auto* kv : sorted_entries(a.object(0))) out.emplace_back(kv->key());
         return out;
       }},
      {"values",
       [](Args& a) -> Result {
         a.count(1);
         json::array out;
         for (const auto* kv : sorted_entries(a.object(0))) out.push_back(kv->value());
         return out;
       }},
      {"lookup", lookup},
      {"element", element},
      {"slice", slice},
      {"zipmap", zipmap},
      {"one",
       [](Args& a) -> Result {
         a.count(1);
         const json::array& list = a.list(0);
         if (list.size() > 1) a.fail("the list must have zero or one elements");
         return list.empty() ? json::value(nullptr) : list[0];
       }},
      {"flatten",
       [](Args& a) -> Result {
         a.count(1);
         json::array out;
         flatten_into(out, a.list(0));
         return out;
       }},
      {"distinct",
       [](Args& a) -> Result {
         a.count(1);
         return distinct_values(a.list(0));
       }},
      {"compact",
       [](Args& a) -> Result {
         a.count(1);
         json::array out;
         for (const auto& e : a.list(0))
           if (!e.is_null() && !(e.is_string() && e.get_string().empty())) out.push_back(e);
         return out;
       }},
      {"reverse",
       [](Args& a) -> Result {
         a.count(1);
         const json::array& list = a.list(0);
         return json::array(list.rbegin(), list.rend());
       }},
      {"sort",
       [](Args& a) -> Result {
         a.count(1);
         std::vector<std::string> items;
         for (const auto& e : a.list(0)) {
           auto s = as_string(e);
           if (!s) a.fail("list elements must be strings");
           items.push_back(*s);
         }
         std::sort(items.begin(), items.end());
         return strings_to_list(items);
       }},
      {"alltrue",
       [](Args& a) -> Result {
         a.count(1);
         for (const auto& e : a.list(0))
           if (as_bool(e) != std::optional<bool>(true)) return false;
         return true;
       }},
      {"anytrue",
       [](Args& a) -> Result {
         a.count(1);
         for (const auto& e : a.list(0))
           if (as_bool(e) == std::optional<bool>(true)) return true;
         return false;
       }},
      {"sum",
       [](Args& a) -> Result {
         a.count(1);
         double total = 0;
         bool integral = true;
         std::int64_t itotal = 0;
         for (const auto& e : a.list(0)) {
           auto n = as_number(e);
           if (!n) a.fail("list elements must be numbers");
           total += to_double(*n);
           if (integral && n->is_int64() &&
               !__builtin_add_overflow(itotal, n->get_int64(), &itotal))
             continue;
           integral = false;
         }
         return integral ? json::value(itotal) : json::value(total);
       }},
      {"min", [](Args& a) { return min_max(a, false); }},
      {"max", [](Args& a) { return min_max(a, true); }},
      {"abs",
       [](Args& a) -> Result {
         a.count(1);
         json::value n = a.num(0);
         if (n.is_int64() && n.get_int64() != std::numeric_limits<std::int64_t>::min())
           return std::abs(n.get_int64());
         return std::fabs(to_double(n));
       }},
      {"ceil",
       [](Args& a) -> Result {
         a.count(1);
         return number_result(std::ceil(a.dbl(0)));
       }},
      {"floor",
       [](Args& a) -> Result {
         a.count(1);
         return number_result(std::floor(a.dbl(0)));
       }},
      {"signum",
       [](Args& a) -> Result {
         a.count(1);
         double d = a.dbl(0);
         return static_cast<std::int64_t>(d > 0 ? 1 : d < 0 ? -1 : 0);
       }},
      {"pow",
       [](Args& a) -> Result {
         a.count(2);
         return number_result(std::pow(a.dbl(0), a.dbl(1)));
       }},
      {"range", range},
      {"jsonencode",
       [](Args& a) -> Result {
         a.count(1);
         // Escapes such as \u003c make the text up to six times its characters.
         a.reserve(value_bytes(a[0], kMaxEvalBytes) * 6);
         return encode_json(a[0]);
       }},
      {"jsondecode", jsondecode},
      {"base64encode",
       [](Args& a) -> Result {
         a.count(1);
         return base64_encode(a.str(0));
       }},
      {"base64decode",
       [](Args& a) -> Result {
         a.count(1);
         auto s = base64_decode(a.str(0));
         if (!s) a.fail("the string is not valid base64");
         if (invalid_utf8_offset(*s))
           a.fail("the result of decoding the provided string is not valid UTF-8");
         return *s;
       }},
      {"sha256",
       [](Args& a) -> Result {
         a.count(1);
         return to_hex(sha256(a.str(0)));
       }},
      {"sha1",
       [](Args& a) -> Result {
         a.count(1);
         return digest(a, EVP_sha1(), a.str(0));
       }},
      {"sha512",
       [](Args& a) -> Result {
         a.count(1);
         return digest(a, EVP_sha512(), a.str(0));
       }},
      {"base64sha256",
       [](Args& a) -> Result {
         a.count(1);
         return base64_encode(raw_digest(a, EVP_sha256(), a.str(0)));
       }},
      {"md5",
       [](Args& a) -> Result {
         a.count(1);
         return digest(a, EVP_md5(), a.str(0));
       }},
      {"uuid",
       [](Args& a) -> Result {
         a.count(0);
         return Uuid::random_v4().to_string();
       }},
      {"timestamp",
       [](Args& a) -> Result {
         a.fail("timestamp() is not supported: template evaluation must be deterministic");
       }},
      {"file",
       [](Args& a) -> Result {
         a.count(1);
         auto contents = read_module_file(a.str(0), a.position(), a.environment());
         if (invalid_utf8_offset(contents))
           a.fail("contents of " + a.str(0) +
                  " are not valid UTF-8; use the filebase64 function to obtain the Base64 "
                  "encoded contents");
         return contents;
       }},
      {"filebase64",
       [](Args& a) -> Result {
         a.count(1);
         return base64_encode(read_module_file(a.str(0), a.position(), a.environment()));
       }},
      {"fileexists",
       [](Args& a) -> Result {
         a.count(1);
         try {
           read_module_file(a.str(0), a.position(), a.environment());
           return true;
         } catch (const Error& e) {
           if (e.message().find("no such file") != std::string::npos) return false;
           throw;
         }
       }},
      {"sensitive",
       [](Args& a) -> Result {
         a.count(1);
         return a[0];
       }},
      {"nonsensitive",
       [](Args& a) -> Result {
         a.count(1);
         return a[0];
       }},
  };
  return table;
}

}  // namespace

bool is_builtin_function(const std::string& name) {
  return functions().contains(name);
}

json::value call_function(const std::string& name, std::vector<json::value> args,
                          const Position& position, const FunctionEnvironment& environment) {
  auto it = functions().find(name);
  if (it == functions().end()) fail_at(position, "unknown function \"" + name + "\"");
  Args a(name, args, position, environment);
  return it->second(a).v;
}

std::string read_module_file(const std::string& path, const Position& position,
                             const FunctionEnvironment& environment) {
  namespace fs = std::filesystem;
  auto refuse = [&](const std::string& why) -> std::string {
    fail_at(position, "cannot read \"" + path + "\": " + why);
  };
  fs::path relative = fs::path(path).lexically_normal();
  if (relative.is_absolute() || relative.has_root_name())
    return refuse("absolute paths are not allowed");
  if (relative.empty() || *relative.begin() == "..")
    return refuse("the path leaves the module directory");
  std::error_code ec;
  fs::path base =
      fs::weakly_canonical(environment.module_dir.empty() ? "." : environment.module_dir, ec);
  if (ec) return refuse("the module directory is unavailable");
  fs::path full = base / relative;
  if (!fs::exists(full, ec)) return refuse("no such file");
  fs::path real = fs::canonical(full, ec);
  if (ec) return refuse("no such file");
  auto [b, r] = std::mismatch(base.begin(), base.end(), real.begin(), real.end());
  if (b != base.end()) return refuse("the path leaves the module directory");
  if (!fs::is_regular_file(real, ec)) return refuse("not a regular file");
  auto size = fs::file_size(real, ec);
  if (ec) return refuse("cannot stat the file");
  if (size > environment.max_file_bytes)
    return refuse("the file is larger than " + std::to_string(environment.max_file_bytes) +
                  " bytes");
  std::ifstream in(real, std::ios::binary);
  std::string content(static_cast<std::size_t>(size), '\0');
  if (!in.read(content.data(), static_cast<std::streamsize>(size))) return refuse("reading failed");
  return content;
}

}  // namespace berth::hcl
