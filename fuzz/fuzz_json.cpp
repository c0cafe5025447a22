// Decodes the input as a request body the way handlers do: json::parse_body, then typed reads
// through ObjectReader of the fields request structs have, then a serialization round trip.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/error.hpp"
#include "common/json.hpp"

using namespace berth;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  try {
    json::value document = json::parse_body(body);
    std::string text = json::serialize(document);
    // What Berth writes back must parse (doubles may not round-trip bit for bit: Boost.JSON's
    // default parser is not correctly rounded).
    try {
      json::parse(text);
    } catch (const Error&) {
      __builtin_trap();
    }
    json::ObjectReader reader(std::move(document));
    // Each key is read as each type: a wrong type must throw Error, never crash.
    for (const char* key : {"name", "count", "ttl_ms", "enabled", "tags", "id", "meta", "list"}) {
      try {
        reader.has(key);
        reader.string(key);
      } catch (const Error&) {
      }
      try {
        reader.integer(key);
      } catch (const Error&) {
      }
      try {
        reader.boolean(key);
      } catch (const Error&) {
      }
      try {
        reader.string_array(key);
      } catch (const Error&) {
      }
      try {
        reader.uuid(key);
      } catch (const Error&) {
      }
      try {
        if (const json::object* o = reader.object_field(key)) json::string_at(*o, "name");
      } catch (const Error&) {
      }
      try {
        reader.array_field(key);
      } catch (const Error&) {
      }
    }
    reader.required_string("name");
    reader.finish();
  } catch (const Error&) {
  }
  return 0;
}
