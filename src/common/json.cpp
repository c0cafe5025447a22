#include "common/json.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cmath>

#include "common/utf8.hpp"

namespace berth::json {

namespace {

// Coder's request structs are shallow; anything deeper than this is hostile or a mistake.
constexpr std::size_t kMaxDepth = 64;

// Boost.JSON reads a number too large for a double (1e400) as an infinity, which it then
// writes back as `Infinity`: not JSON. Go's decoder refuses such a number. The walk is as deep
// as the document, at most kMaxDepth.
bool has_infinity(const value& v) {
  if (v.is_double()) return !std::isfinite(v.get_double());
  if (const auto* a = v.if_array())
    return std::any_of(a->begin(), a->end(), [](const value& e) { return has_infinity(e); });
  if (const auto* o = v.if_object())
    return std::any_of(o->begin(), o->end(), [](const auto& e) { return has_infinity(e.value()); });
  return false;
}

}  // namespace

value parse_body(std::string_view body) {
  boost::json::parse_options options;
  options.max_depth = kMaxDepth;
  boost::system::error_code ec;
  value v = boost::json::parse(body, ec, {}, options);
  if (ec)
    throw Error{ErrorCode::invalid, "Request body must be valid JSON.",
                body.empty() ? "the request body is empty" : ec.message()};
  if (has_infinity(v))
    throw Error{ErrorCode::invalid, "Request body must be valid JSON.",
                "a number is out of range (above 1.8e308 in magnitude)"};
  return v;
}

value parse(std::string_view text) {
  boost::system::error_code ec;
  value v = boost::json::parse(text, ec);
  if (ec) throw Error{ErrorCode::internal, "Stored JSON is malformed.", ec.message()};
  return v;
}

std::string serialize(const value& v) {
  // Boost.JSON writes strings' bytes as given. Invalid UTF-8 can only sit inside strings, so
  // replacing it keeps the document's structure and makes it valid JSON, as Go's encoder does.
  return valid_utf8(boost::json::serialize(v));
}

ObjectReader::ObjectReader(value document)
    : document_(std::move(document)), object_(document_.if_object()) {
  if (!object_)
    throw Error{ErrorCode::invalid, "Request body must be valid JSON.",
                "the request body must be a JSON object"};
}

const value* ObjectReader::find(std::string_view key) const {
  auto it = object_->find(key);
  if (it == object_->end() || it->value().is_null()) return nullptr;
  return &it->value();
}

void ObjectReader::wrong_type(std::string_view key, const char* expected) const {
  throw Error{ErrorCode::invalid, "Request body must be valid JSON.",
              "field \"" + std::string(key) + "\" must be " + expected};
}

std::optional<std::string> ObjectReader::string(std::string_view key) {
  auto v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_string()) wrong_type(key, "a string");
  return std::string(v->get_string());
}

std::optional<std::int64_t> ObjectReader::integer(std::string_view key) {
  auto v = find(key);
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64() && v->get_uint64() <= INT64_MAX) return std::int64_t(v->get_uint64());
  if (v->is_double()) {
    double d = v->get_double();
    // The range first: converting a double outside int64's range is undefined.
    if (d < 9.2e18 && d > -9.2e18 && d == double(std::int64_t(d))) return std::int64_t(d);
  }
  wrong_type(key, "an integer");
}

std::optional<bool> ObjectReader::boolean(std::string_view key) {
  auto v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_bool()) wrong_type(key, "a boolean");
  return v->get_bool();
}

std::optional<std::vector<std::string>> ObjectReader::string_array(std::string_view key) {
  auto v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_array()) wrong_type(key, "an array of strings");
  std::vector<std::string> out;
  for (const auto& item : v->get_array()) {
    if (!item.is_string()) wrong_type(key, "an array of strings");
    out.emplace_back(item.get_string());
  }
  return out;
}

std::optional<Uuid> ObjectReader::uuid(std::string_view key) {
  auto text = string(key);
  if (!text) return std::nullopt;
  auto id = Uuid::parse(*text);
  if (!id) wrong_type(key, "a UUID");
  return id;
}

const object* ObjectReader::object_field(std::string_view key) {
  auto v = find(key);
  if (!v) return nullptr;
  if (!v->is_object()) wrong_type(key, "an object");
  return &v->get_object();
}

const array* ObjectReader::array_field(std::string_view key) {
  auto v = find(key);
  if (!v) return nullptr;
  if (!v->is_array()) wrong_type(key, "an array");
  return &v->get_array();
}

bool ObjectReader::has(std::string_view key) const {
  return object_->contains(key);
}

void ObjectReader::invalid(std::string field, std::string detail) {
  validations_.push_back({std::move(field), std::move(detail)});
}

std::string ObjectReader::required_string(std::string_view key) {
  auto s = string(key);
  if (!s || s->empty()) {
    invalid(std::string(key), "Validation failed for tag \"required\" with value: \"\"");
    return {};
  }
  return *s;
}

void ObjectReader::finish() const {
  if (!validations_.empty())
    throw Error{ErrorCode::invalid, "Validation failed.", {}, validations_};
}

std::string string_at(const object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

value time_or_null(const std::optional<TimePoint>& t) {
  if (!t) return nullptr;
  return value(format_rfc3339(*t));
}

value strings(const std::vector<std::string>& items) {
  array out;
  for (const auto& s : items) out.emplace_back(s);
  return out;
}

}  // namespace berth::json
