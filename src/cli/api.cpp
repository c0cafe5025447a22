#include "cli/api.hpp"

#include "common/error.hpp"

namespace berth::cli {

namespace {

// Validations name the offending fields, which the message alone ("Validation failed.") does not.
std::string detail_with_validations(const json::object& body) {
  std::string detail = str(body, "detail");
  if (const auto* v = body.if_contains("validations"); v && v->is_array())
    for (const auto& item : v->as_array()) {
      if (!item.is_object()) continue;
      if (!detail.empty()) detail += "; ";
      detail += str(item.as_object(), "field") + ": " + str(item.as_object(), "detail");
    }
  return detail;
}

}  // namespace

json::value expect_status(const sdk::HttpResponse& r, int expected) {
  if (r.status == expected) return r.json();
  json::value body;
  try {
    body = r.json();
  } catch (const Error&) {
  }
  if (body.is_object() && body.as_object().contains("message"))
    throw Error{error_code_for_status(r.status), str(body.as_object(), "message"),
                detail_with_validations(body.as_object())};
  throw Error{error_code_for_status(r.status),
              "Unexpected status " + std::to_string(r.status) + ".", r.body};
}

json::value get_json(sdk::Client& client, const std::string& target) {
  return expect_status(client.request("GET", target), 200);
}

json::value send_json(sdk::Client& client, const std::string& method, const std::string& target,
                      const json::value& body, int expected) {
  return expect_status(client.request_json(method, target, body), expected);
}

std::string url_escape(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += char(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string str(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v || v->is_null()) return {};
  if (v->is_string()) return std::string(v->as_string());
  return json::serialize(*v);
}

std::int64_t int_of(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_int64() ? v->as_int64() : 0;
}

const json::object& obj(const json::object& o, std::string_view key) {
  static const json::object kEmpty;
  const auto* v = o.if_contains(key);
  return v && v->is_object() ? v->as_object() : kEmpty;
}

json::object current_user(sdk::Client& client) {
  return get_json(client, "/api/v2/users/me").as_object();
}

std::string default_organization_id(sdk::Client& client) {
  auto orgs = get_json(client, "/api/v2/users/me/organizations");
  if (!orgs.is_array() || orgs.as_array().empty())
    throw Error{ErrorCode::not_found, "You are not a member of any organization."};
  for (const auto& org : orgs.as_array())
    if (const auto* d = org.as_object().if_contains("is_default");
        d && d->is_bool() && d->as_bool())
      return str(org.as_object(), "id");
  return str(orgs.as_array().front().as_object(), "id");
}

std::optional<sdk::Template> find_template(sdk::Client& client, const std::string& org_id,
                                           const std::string& name) {
  auto r =
      client.request("GET", "/api/v2/organizations/" + org_id + "/templates/" + url_escape(name));
  if (r.status == 404) return std::nullopt;
  return sdk::template_from_json(expect_status(r, 200));
}

sdk::Template require_template(sdk::Client& client, const std::string& org_id,
                               const std::string& name) {
  auto found = find_template(client, org_id, name);
  if (!found)
    throw Error{ErrorCode::not_found, "Template \"" + name + "\" not found.",
                "See 'berth templates list' for the templates you can use."};
  return *found;
}

json::object resolve_workspace(sdk::Client& client, const std::string& argument) {
  std::string owner = "me";
  std::string name = argument;
  if (auto slash = argument.find('/'); slash != std::string::npos) {
    owner = argument.substr(0, slash);
    name = argument.substr(slash + 1);
  }
  if (owner.empty() || name.empty())
    throw Error{ErrorCode::invalid, "Invalid workspace \"" + argument + "\".",
                "Use <name> or <owner>/<name>."};
  auto r = client.request("GET",
                          "/api/v2/users/" + url_escape(owner) + "/workspace/" + url_escape(name));
  if (r.status == 404)
    throw Error{ErrorCode::not_found, "Workspace \"" + argument + "\" not found.",
                "See 'berth list' for your workspaces."};
  return expect_status(r, 200).as_object();
}

}  // namespace berth::cli
