#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "common/time.hpp"
#include "common/uuid.hpp"

namespace berth::json {

using boost::json::array;
using boost::json::object;
using boost::json::value;

// Parses a request body; malformed or too deeply nested input throws Error{invalid}
// with Coder's message "Request body must be valid JSON.".
value parse_body(std::string_view body);

// Parses any JSON text (config, stored columns); throws Error{internal} when malformed.
value parse(std::string_view text);

// Compact JSON text, always valid UTF-8: bytes in strings that are not (text from files,
// processes or peers) are written as U+FFFD, as Go's encoding/json does.
std::string serialize(const value& v);

// Reads typed fields from a JSON object. A field of the wrong type is an invalid-JSON error
// naming the field, as Go's decoder reports; `finish` throws the collected validations.
class ObjectReader {
 public:
  // Takes the parsed document; throws the invalid-JSON error unless it is an object.
  explicit ObjectReader(value document);

  std::optional<std::string> string(std::string_view key);
  std::optional<std::int64_t> integer(std::string_view key);
  std::optional<bool> boolean(std::string_view key);
  std::optional<std::vector<std::string>> string_array(std::string_view key);
  std::optional<Uuid> uuid(std::string_view key);
  // A nested object, or nullptr when absent or null.
  const object* object_field(std::string_view key);
  // A nested array, or nullptr when absent or null.
  const array* array_field(std::string_view key);
  // Whether the body has `key` at all (even as null).
  bool has(std::string_view key) const;

  // Records a validation error for `field` (the JSON name).
  void invalid(std::string field, std::string detail);
  // A required string: absent or empty records Coder's "required" validation.
  std::string required_string(std::string_view key);
  // Throws Error{invalid, "Validation failed."} if any validation was recorded.
  void finish() const;

 private:
  const value* find(std::string_view key) const;
  [[noreturn]] void wrong_type(std::string_view key, const char* expected) const;

  value document_;
  const json::object* object_;
  std::vector<Validation> validations_;
};

// The string at `key`, or empty when it is absent or not a string (for lenient readers of
// documents Berth wrote itself or that peers send, where a wrong type just means "not given").
std::string string_at(const object& o, std::string_view key);

// Writers for optional values: absent becomes JSON null, as Go's NullTime does.
value time_or_null(const std::optional<TimePoint>& t);
value strings(const std::vector<std::string>& items);

}  // namespace berth::json
