#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/json.hpp"
#include "sdk/client.hpp"
#include "sdk/templates.hpp"

// Small wrappers over sdk::Client for the calls every command group makes.
namespace berth::cli {

// The parsed body when `r.status == expected`; otherwise throws an Error carrying the API's
// `message`, `detail` and validations (folded into the detail).
json::value expect_status(const sdk::HttpResponse& r, int expected);

json::value get_json(sdk::Client& client, const std::string& target);
json::value send_json(sdk::Client& client, const std::string& method, const std::string& target,
                      const json::value& body, int expected);

// Percent-encodes a query or path component.
std::string url_escape(std::string_view text);

// Field readers that treat absent and null alike.
std::string str(const json::object& o, std::string_view key);
std::int64_t int_of(const json::object& o, std::string_view key);
const json::object& obj(const json::object& o, std::string_view key);

// GET /users/me.
json::object current_user(sdk::Client& client);
// The caller's default organization (the one marked default, else their first).
std::string default_organization_id(sdk::Client& client);

// A template by name in `org_id`, or nullopt when it does not exist.
std::optional<sdk::Template> find_template(sdk::Client& client, const std::string& org_id,
                                           const std::string& name);
// As find_template, but a missing template is an Error{not_found} naming it.
sdk::Template require_template(sdk::Client& client, const std::string& org_id,
                               const std::string& name);

// `name` (the caller's own) or `owner/name`; an unknown one is an Error{not_found} naming it.
json::object resolve_workspace(sdk::Client& client, const std::string& argument);

}  // namespace berth::cli
