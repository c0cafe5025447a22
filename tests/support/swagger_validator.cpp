#include "support/swagger_validator.hpp"

#include <boost/json/kind.hpp>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string_view>
#include <utility>

#include "common/time.hpp"

#ifndef BERTH_SWAGGER_PATH
#define BERTH_SWAGGER_PATH "/work/shared/coder-api/swagger.json"
#endif

namespace berth::testing {

struct SwaggerValidator::Document {
  json::value root;
  const json::object* definitions = nullptr;
  const json::object* paths = nullptr;
};

namespace {

constexpr std::string_view kDefinitionPrefix = "#/definitions/";
constexpr std::string_view kNullUuidRef = "#/definitions/uuid.NullUUID";
// Bounds `$ref` chains that consume no input, so a cyclic schema cannot recurse forever.
constexpr int kMaxRefHops = 64;
constexpr std::size_t kMaxShownValue = 80;

// Shapes that exist only in the seeds (../seeds/api-tasks.md), newer than swagger.json.
constexpr std::string_view kSeedDefinitions = R"({
  "codersdk.PauseTaskResponse": {"type": "object",
    "properties": {"workspace_build": {"$ref": "#/definitions/codersdk.WorkspaceBuild"}}},
  "codersdk.ResumeTaskResponse": {"type": "object",
    "properties": {"workspace_build": {"$ref": "#/definitions/codersdk.WorkspaceBuild"}}}
})";
constexpr std::string_view kSeedPaths = R"({
  "/tasks/{user}/{task}/pause": {"post": {"responses": {"202": {"description": "Accepted",
    "schema": {"$ref": "#/definitions/codersdk.PauseTaskResponse"}}}}},
  "/tasks/{user}/{task}/resume": {"post": {"responses": {"202": {"description": "Accepted",
    "schema": {"$ref": "#/definitions/codersdk.ResumeTaskResponse"}}}}}
})";

void add_missing(json::object& into, std::string_view text) {
  const json::value extra = json::parse(text);
  for (const auto& [key, value] : extra.as_object()) {
    if (!into.contains(key)) into[key] = value;
  }
}

std::shared_ptr<const SwaggerValidator::Document> parse_document(const std::string& text) {
  auto doc = std::make_shared<SwaggerValidator::Document>();
  doc->root = json::parse(text);
  json::object& root = doc->root.as_object();
  json::value& definitions = root["definitions"];
  json::value& paths = root["paths"];
  if (!definitions.is_object()) definitions = json::object{};
  if (!paths.is_object()) paths = json::object{};
  add_missing(definitions.as_object(), kSeedDefinitions);
  add_missing(paths.as_object(), kSeedPaths);
  doc->definitions = &definitions.as_object();
  doc->paths = &paths.as_object();
  return doc;
}

std::string shown(const json::value& v) {
  std::string text = json::serialize(v);
  if (text.size() > kMaxShownValue) text = text.substr(0, kMaxShownValue) + "...";
  return text;
}

const char* kind_name(const json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null:
      return "null";
    case boost::json::kind::bool_:
      return "boolean";
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
      return "integer";
    case boost::json::kind::double_:
      return "number";
    case boost::json::kind::string:
      return "string";
    case boost::json::kind::array:
      return "array";
    case boost::json::kind::object:
      return "object";
  }
  return "unknown";
}

bool has_type(const json::value& v, std::string_view type) {
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "string") return v.is_string();
  if (type == "boolean") return v.is_bool();
  // Go's decoder rejects 3.0 for an int field, so integers must be written without a fraction.
  if (type == "integer") return v.is_int64() || v.is_uint64();
  if (type == "number") return v.is_number();
  return true;  // an unknown type name constrains nothing
}

// Go's uuid.UUID prints the canonical lower-case 8-4-4-4-12 form.
bool is_canonical_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    const char c = s[i];
    if (dash != (c == '-')) return false;
    if (!dash && !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string_view string_field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

std::string member_path(const std::string& path, std::string_view key) {
  const bool plain = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
  if (plain) return path + "." + std::string(key);
  return path + "[" + json::serialize(json::value(key)) + "]";
}

class Walker {
 public:
  Walker(const SwaggerValidator::Document& doc, std::vector<std::string>& problems)
      : doc_(doc), problems_(problems) {}

  // `null_ok` is true where the parent allows the value to be null (an optional property);
  // `hops` counts schema steps taken without descending into the value.
  void check(const json::value& v, const json::object& schema, const std::string& path,
             bool null_ok, int hops = 0) {
    if (hops > kMaxRefHops) return problem(path, "schema $ref chain too deep");
    if (refers_to_null_uuid(schema)) return check_null_uuid(v, path);
    if (v.is_null()) {
      if (null_ok || allows_null(schema, 0)) return;
      return problem(path, "null is not allowed (expected " + expected_type(schema) + ")");
    }
    if (const json::value* ref = schema.if_contains("$ref")) {
      const json::object* target = resolve(*ref, path);
      if (!target) return;
      check(v, *target, path, null_ok, hops + 1);
    }
    if (const json::value* type = schema.if_contains("type"); type && type->is_string()) {
      if (!has_type(v, type->get_string())) {
        return problem(path, "expected " + std::string(type->get_string()) + ", got " +
                                 kind_name(v) + " " + shown(v));
      }
    }
    if (const json::value* values = schema.if_contains("enum"); values && values->is_array()) {
      const json::array& options = values->get_array();
      if (std::find(options.begin(), options.end(), v) == options.end()) {
        // The narrower sibling enum decides; the referenced type's wider one would repeat it.
        return problem(path, shown(v) + " is not one of " + shown_enum(options));
      }
    }
    if (const json::value* all = schema.if_contains("allOf"); all && all->is_array()) {
      for (const json::value& part : all->get_array()) {
        if (part.is_object()) check(v, part.get_object(), path, null_ok, hops + 1);
      }
    }
    if (v.is_string()) check_format(v.get_string(), string_field(schema, "format"), path);
    if (v.is_object()) check_object(v.get_object(), schema, path);
    if (v.is_array()) check_array(v.get_array(), schema, path);
  }

  const json::object* definition(std::string_view name) const {
    const json::value* d = doc_.definitions->if_contains(name);
    return d && d->is_object() ? &d->get_object() : nullptr;
  }

  void problem(const std::string& path, const std::string& message) {
    problems_.push_back(path + ": " + message);
  }

 private:
  const json::object* resolve(const json::value& ref, const std::string& path) {
    const std::string_view text = ref.is_string() ? std::string_view(ref.get_string()) : "";
    if (text.substr(0, kDefinitionPrefix.size()) == kDefinitionPrefix) {
      if (const json::object* d = definition(text.substr(kDefinitionPrefix.size()))) return d;
    }
    problem(path, "schema has unresolvable $ref " + shown(ref));
    return nullptr;
  }

  const json::object* resolve_quietly(const json::value& ref) const {
    const std::string_view text = ref.is_string() ? std::string_view(ref.get_string()) : "";
    if (text.substr(0, kDefinitionPrefix.size()) != kDefinitionPrefix) return nullptr;
    return definition(text.substr(kDefinitionPrefix.size()));
  }

  static bool is_null_uuid_ref(const json::value& ref) {
    return ref.is_string() && ref.get_string() == kNullUuidRef;
  }

  // `{"$ref": NullUUID}` or `{"allOf": [{"$ref": NullUUID}], "format": "uuid"}`.
  static bool refers_to_null_uuid(const json::object& schema) {
    if (const json::value* ref = schema.if_contains("$ref"); ref && is_null_uuid_ref(*ref)) {
      return true;
    }
    const json::value* all = schema.if_contains("allOf");
    if (!all || !all->is_array()) return false;
    return std::any_of(all->get_array().begin(), all->get_array().end(), [](const auto& part) {
      const json::value* ref = part.is_object() ? part.get_object().if_contains("$ref") : nullptr;
      return ref && is_null_uuid_ref(*ref);
    });
  }

  void check_null_uuid(const json::value& v, const std::string& path) {
    if (v.is_null()) return;
    if (!v.is_string()) {
      return problem(path, "expected a uuid string or null (uuid.NullUUID), got " + shown(v));
    }
    check_format(v.get_string(), "uuid", path);
  }

  // Go's NullTime prints null, so a date-time (directly or through refs) may be null.
  bool allows_null(const json::object& schema, int hops) const {
    if (hops > kMaxRefHops) return false;
    if (string_field(schema, "format") == "date-time") return true;
    if (const json::value* ref = schema.if_contains("$ref")) {
      const json::object* target = resolve_quietly(*ref);
      if (target && allows_null(*target, hops + 1)) return true;
    }
    if (const json::value* all = schema.if_contains("allOf"); all && all->is_array()) {
      for (const json::value& part : all->get_array()) {
        if (part.is_object() && allows_null(part.get_object(), hops + 1)) return true;
      }
    }
    return false;
  }

  static std::string expected_type(const json::object& schema) {
    if (std::string_view type = string_field(schema, "type"); !type.empty()) {
      return std::string(type);
    }
    const json::value* ref = schema.if_contains("$ref");
    if (!ref) {
      const json::value* all = schema.if_contains("allOf");
      if (all && all->is_array() && !all->get_array().empty() && all->get_array()[0].is_object()) {
        ref = all->get_array()[0].get_object().if_contains("$ref");
      }
    }
    if (ref && ref->is_string()) {
      const std::string_view text = ref->get_string();
      return std::string(text.substr(std::min(text.size(), kDefinitionPrefix.size())));
    }
    return "a value";
  }

  static std::string shown_enum(const json::array& options) {
    std::string out = "[";
    for (std::size_t i = 0; i < options.size(); ++i) {
      if (i) out += ", ";
      out += json::serialize(options[i]);
    }
    return out + "]";
  }

  void check_format(std::string_view s, std::string_view format, const std::string& path) {
    if (format == "uuid" && !is_canonical_uuid(s)) {
      problem(path, shown(json::value(s)) + " is not a valid uuid");
    } else if (format == "date-time" && !parse_rfc3339(s)) {
      problem(path, shown(json::value(s)) + " is not an RFC 3339 date-time");
    }
  }

  void check_object(const json::object& o, const json::object& schema, const std::string& path) {
    const json::object* properties = nullptr;
    if (const json::value* p = schema.if_contains("properties"); p && p->is_object()) {
      properties = &p->get_object();
    }
    std::vector<std::string_view> required;
    if (const json::value* r = schema.if_contains("required"); r && r->is_array()) {
      for (const json::value& name : r->get_array()) {
        if (!name.is_string()) continue;
        required.push_back(name.get_string());
        if (!o.contains(name.get_string())) {
          problem(member_path(path, name.get_string()), "required property is missing");
        }
      }
    }
    const json::value* additional = schema.if_contains("additionalProperties");
    const json::object* additional_schema =
        additional && additional->is_object() ? &additional->get_object() : nullptr;
    for (const auto& [key, member] : o) {
      const json::value* property = properties ? properties->if_contains(key) : nullptr;
      if (property && property->is_object()) {
        const bool is_required =
            std::find(required.begin(), required.end(), std::string_view(key)) != required.end();
        check(member, property->get_object(), member_path(path, key), !is_required);
      } else if (additional_schema) {
        // A map: every other value follows the additionalProperties schema.
        check(member, *additional_schema, member_path(path, key), false);
      }
    }
  }

  void check_array(const json::array& a, const json::object& schema, const std::string& path) {
    const json::value* items = schema.if_contains("items");
    if (!items || !items->is_object()) return;
    for (std::size_t i = 0; i < a.size(); ++i) {
      check(a[i], items->get_object(), path + "[" + std::to_string(i) + "]", false);
    }
  }

  const SwaggerValidator::Document& doc_;
  std::vector<std::string>& problems_;
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// The response object for `status`, per the fallbacks documented in the header.
const json::object* find_response(const json::object& responses, int status, bool& as_error) {
  as_error = false;
  if (const json::value* r = responses.if_contains(std::to_string(status)); r && r->is_object()) {
    return &r->get_object();
  }
  if (status >= 200 && status < 300) {
    for (int code = 200; code < 300; ++code) {
      const json::value* r = responses.if_contains(std::to_string(code));
      if (r && r->is_object()) return &r->get_object();
    }
    return nullptr;
  }
  as_error = status >= 400;
  return nullptr;
}

}  // namespace

SwaggerValidator::SwaggerValidator(std::shared_ptr<const Document> document)
    : document_(std::move(document)) {}

std::optional<SwaggerValidator> SwaggerValidator::load(const std::string& path) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const Document>> cache;
  std::lock_guard lock(mutex);
  if (auto it = cache.find(path); it != cache.end()) return SwaggerValidator(it->second);
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  auto document = parse_document(text.str());
  cache.emplace(path, document);
  return SwaggerValidator(std::move(document));
}

const char* SwaggerValidator::default_path() {
  const char* overridden = std::getenv("BERTH_SWAGGER_PATH");
  return overridden && *overridden ? overridden : BERTH_SWAGGER_PATH;
}

std::optional<SwaggerValidator> SwaggerValidator::load_default() {
  return load(default_path());
}

bool SwaggerValidator::has_definition(const std::string& name) const {
  return document_->definitions->contains(name);
}

std::vector<std::string> SwaggerValidator::validate(const json::value& value,
                                                    const std::string& definition) const {
  std::vector<std::string> problems;
  Walker walker(*document_, problems);
  const json::object* schema = walker.definition(definition);
  if (!schema) {
    walker.problem("$", "unknown definition " + definition);
    return problems;
  }
  walker.check(value, *schema, "$", false);
  return problems;
}

std::vector<std::string> SwaggerValidator::validate_array(const json::value& value,
                                                          const std::string& definition) const {
  std::vector<std::string> problems;
  Walker walker(*document_, problems);
  if (!walker.definition(definition)) {
    walker.problem("$", "unknown definition " + definition);
    return problems;
  }
  const json::object schema{{"type", "array"},
                            {"items", json::object{{"$ref", "#/definitions/" + definition}}}};
  walker.check(value, schema, "$", false);
  return problems;
}

std::vector<std::string> SwaggerValidator::validate_response(const std::string& method,
                                                             const std::string& path_template,
                                                             int status,
                                                             const json::value& value) const {
  const std::string operation = method + " " + path_template;
  const json::value* item = document_->paths->if_contains(path_template);
  const json::value* op =
      item && item->is_object() ? item->get_object().if_contains(lower(method)) : nullptr;
  const json::value* responses =
      op && op->is_object() ? op->get_object().if_contains("responses") : nullptr;
  if (!responses || !responses->is_object()) {
    return {"$: swagger.json has no operation " + operation};
  }
  bool as_error = false;
  const json::object* response = find_response(responses->get_object(), status, as_error);
  if (as_error) return validate(value, "codersdk.Response");
  if (!response) {
    return {"$: " + operation + " declares no response for status " + std::to_string(status)};
  }
  const json::value* schema = response->if_contains("schema");
  if (!schema || !schema->is_object()) {
    if (value.is_null()) return {};
    return {"$: " + operation + " " + std::to_string(status) + " declares no body, got " +
            shown(value)};
  }
  std::vector<std::string> problems;
  Walker(*document_, problems).check(value, schema->get_object(), "$", false);
  return problems;
}

std::string describe(const std::vector<std::string>& problems) {
  std::string out;
  for (const std::string& p : problems) out += p + "\n";
  return out;
}

}  // namespace berth::testing
