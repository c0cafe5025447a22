#include "api/audit.hpp"

#include <spdlog/spdlog.h>

#include <array>

#include "api/auth.hpp"
#include "api/handlers.hpp"
#include "api/jobs_json.hpp"
#include "api/query.hpp"
#include "coderd/rbac.hpp"
#include "common/error.hpp"
#include "common/json.hpp"
#include "http/error_response.hpp"

namespace berth::api {

namespace {

struct AuditedRoute {
  const char* method;
  const char* path;
  AuditSpec spec;
};

// The state-changing routes Coder audits, with their resource type and action.
const std::vector<AuditedRoute>& audited_routes() {
  static const std::vector<AuditedRoute> routes = {
      {"POST", "/api/v2/users/login", {"api_key", "login"}},
      {"POST", "/api/v2/users/logout", {"api_key", "logout"}},
      {"POST", "/api/v2/users/first", {"user", "create"}},
      {"POST", "/api/v2/users", {"user", "create"}},
      {"DELETE", "/api/v2/users/{user}", {"user", "delete"}},
      {"PUT", "/api/v2/users/{user}/roles", {"user", "write"}},
      {"PUT", "/api/v2/users/{user}/status/suspend", {"user", "write"}},
      {"PUT", "/api/v2/users/{user}/status/activate", {"user", "write"}},
      {"POST", "/api/v2/users/{user}/keys/tokens", {"api_key", "create"}},
      {"DELETE", "/api/v2/users/{user}/keys/{keyid}", {"api_key", "delete"}},
      {"POST", "/api/v2/organizations/{organization}/templates", {"template", "create"}},
      {"PATCH", "/api/v2/templates/{template}", {"template", "write"}},
      {"DELETE", "/api/v2/templates/{template}", {"template", "delete"}},
      {"PATCH", "/api/v2/templates/{template}/versions", {"template", "write"}},
      {"POST",
       "/api/v2/organizations/{organization}/templateversions",
       {"template_version", "create"}},
      {"PATCH", "/api/v2/templateversions/{templateversion}", {"template_version", "write"}},
      {"POST", "/api/v2/users/{user}/workspaces", {"workspace", "create"}},
      {"POST",
       "/api/v2/organizations/{organization}/members/{user}/workspaces",
       {"workspace", "create"}},
      {"PATCH", "/api/v2/workspaces/{workspace}", {"workspace", "write"}},
      {"PUT", "/api/v2/workspaces/{workspace}/autostart", {"workspace", "write"}},
      {"PUT", "/api/v2/workspaces/{workspace}/ttl", {"workspace", "write"}},
      {"PUT", "/api/v2/workspaces/{workspace}/autoupdates", {"workspace", "write"}},
      {"PUT", "/api/v2/workspaces/{workspace}/dormant", {"workspace", "write"}},
      {"POST", "/api/v2/workspaces/{workspace}/builds", {"workspace_build", ""}},
      {"POST", "/api/v2/tasks/{user}", {"task", "create"}},
      {"DELETE", "/api/v2/tasks/{user}/{task}", {"task", "delete"}},
      {"POST", "/api/experimental/tasks/{user}", {"task", "create"}},
      {"DELETE", "/api/experimental/tasks/{user}/{task}", {"task", "delete"}},
  };
  return routes;
}

// What a user agent header may take in a row.
constexpr std::size_t kMaxUserAgent = 256;

const json::object* object_of(const json::value& v) {
  return v.is_object() ? &v.as_object() : nullptr;
}

std::string string_field(const json::object* o, const char* name) {
  if (!o) return {};
  const auto* v = o->if_contains(name);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::optional<Uuid> uuid_field(const json::object* o, const char* name) {
  return Uuid::parse(string_field(o, name));
}

// The body as JSON when it is an object; bodies are bounded by the server's limit.
json::value parse_quietly(const std::string& body) {
  if (body.empty() || body.front() != '{') return nullptr;
  try {
    return json::parse(body);
  } catch (const std::exception&) {
    return nullptr;
  }
}

// The resource a request acted on, from its answer (created or updated objects carry their
// id and name) or from its path.
void describe_resource(Deps& deps, const http::Request& request, const AuditSpec& spec,
                       const http::Response* response, store::AuditLogRow& row) {
  json::value answer =
      response && response->status < 300 ? parse_quietly(response->body) : json::value(nullptr);
  const auto* out = object_of(answer);
  if (spec.resource_type == "api_key") {
    // Never the token: only the key id before its dash, which lists show anyway.
    auto key = string_field(out, "key");
    row.resource_target = key.substr(0, key.find('-'));
    if (row.resource_target.empty()) row.resource_target = request.param("keyid");
    return;
  }
  row.resource_id = uuid_field(out, "id");
  row.organization_id = uuid_field(out, "organization_id");
  for (const char* name : {"name", "username", "workspace_name"})
    if (row.resource_target.empty()) row.resource_target = string_field(out, name);
  if (spec.resource_type == "workspace_build" && out) {
    row.resource_target = string_field(out, "workspace_name");
    json::object extra{{"workspace_name", row.resource_target},
                       {"workspace_owner", string_field(out, "workspace_owner_name")},
                       {"build_reason", string_field(out, "reason")}};
    if (const auto* n = out->if_contains("build_number"); n && n->is_int64())
      extra["build_number"] = std::to_string(n->get_int64());
    row.additional_fields = json::serialize(extra);
  }
  if (!row.resource_target.empty()) return;
  // No answer to read (a delete, a failure): the path names the resource.
  for (const char* name : {"workspace", "template", "templateversion", "task", "user"}) {
    const auto& value = request.param(name);
    if (value.empty()) continue;
    if (auto id = Uuid::parse(value)) {
      row.resource_id = id;
      if (std::string(name) == "workspace")
        if (auto w = deps.store.get_workspace_by_id(*id)) row.resource_target = w->name;
    } else {
      row.resource_target = value;
    }
    return;
  }
}

// Who acted on a login: the account the email names, whether or not the password matched.
std::optional<store::UserRow> login_user(Deps& deps, const http::Request& request) {
  auto body = parse_quietly(request.body);
  auto email = string_field(object_of(body), "email");
  if (email.empty()) return std::nullopt;
  return deps.store.get_user_by_email(email);
}

}  // namespace

std::optional<AuditSpec> audit_spec(std::string_view method, std::string_view path) {
  for (const auto& r : audited_routes())
    if (method == r.method && path == r.path) return r.spec;
  return std::nullopt;
}

void record_audit(Deps& deps, const http::Request& request, const AuditSpec& spec,
                  const coderd::Authenticated* auth, const http::Response* response, int status) {
  try {
    store::AuditLogRow row;
    row.id = Uuid::random_v4();
    row.request_id = Uuid::random_v4();
    row.time = deps.clock.now();
    row.ip = client_ip(request);
    row.user_agent =
        std::string(request.header("user-agent").value_or("")).substr(0, kMaxUserAgent);
    row.resource_type = spec.resource_type;
    row.action = spec.action;
    row.status_code = status;
    if (spec.resource_type == "workspace_build") {
      auto body = parse_quietly(request.body);
      row.action = string_field(object_of(body), "transition");
      if (row.action != "start" && row.action != "stop" && row.action != "delete")
        row.action = "start";
    }
    describe_resource(deps, request, spec, response, row);
    if (auth) {
      row.user_id = auth->user.id;
    } else if (spec.action == "login") {
      if (auto user = login_user(deps, request)) row.user_id = user->id;
    }
    if (spec.action == "login" || spec.action == "logout") {
      row.resource_id = row.user_id;
      row.resource_target.clear();
    }
    deps.store.insert_audit_log(row);
  } catch (const std::exception& e) {
    // The request itself is done; a lost audit row is logged, never turned into its failure.
    spdlog::error("audit log: {} {}: {}", request.method, request.path, e.what());
  }
}

namespace {

constexpr std::array kActions = {"create", "write", "delete", "start",
                                 "stop",   "login", "logout", "register"};
constexpr std::array kResourceTypes = {
    "template",        "template_version", "user",         "workspace",
    "workspace_build", "api_key",          "organization", "task"};

// How Coder words an action and a resource type in a description.
std::string friendly_action(const std::string& action) {
  if (action == "create") return "created";
  if (action == "write") return "updated";
  if (action == "delete") return "deleted";
  if (action == "start") return "started";
  if (action == "stop") return "stopped";
  if (action == "login") return "logged in";
  if (action == "logout") return "logged out";
  if (action == "register") return "registered";
  return action;
}

std::string friendly_type(const std::string& type) {
  if (type == "template_version") return "template version";
  if (type == "workspace_build") return "workspace build";
  if (type == "api_key") return "token";
  return type;
}

std::string description(const store::AuditLogRow& row) {
  auto text = "{user} " + friendly_action(row.action);
  if (row.action == "login" || row.action == "logout") return text;
  if (row.resource_type == "workspace_build") return text + " workspace {target}";
  return text + " " + friendly_type(row.resource_type) + " {target}";
}

[[noreturn]] void invalid_audit_search(std::string field, std::string detail) {
  throw Error{ErrorCode::invalid,
              "Invalid audit search query.",
              {},
              {{std::move(field), std::move(detail)}}};
}

store::ListAuditLogsParams parse_audit_search(Deps& deps, const std::string& raw) {
  store::ListAuditLogsParams p;
  for (const auto& term : parse_search_terms(raw, "Invalid audit search query.")) {
    const auto& key = term.has_key ? term.key : std::string("resource_target");
    const auto& value = term.value;
    auto one_of = [&](const auto& allowed) {
      if (std::find(allowed.begin(), allowed.end(), value) == allowed.end())
        invalid_audit_search(key, "Query param \"" + key + "\" has invalid value: \"" + value +
                                      "\" is not a valid value");
      return value;
    };
    auto date = [&] {
      auto day = parse_rfc3339(value + "T00:00:00Z");
      if (!day)
        invalid_audit_search(
            key, "Query param \"" + key + "\" must be a valid date format (2006-01-02)");
      return *day;
    };
    if (key == "resource_type") {
      p.resource_type = one_of(kResourceTypes);
    } else if (key == "action") {
      p.action = one_of(kActions);
    } else if (key == "resource_id") {
      p.resource_id = Uuid::parse(value);
      if (!p.resource_id)
        invalid_audit_search(key, "Query param \"resource_id\" must be a valid uuid");
    } else if (key == "username" || key == "email") {
      auto user = key == "username" ? deps.store.get_user_by_username(value)
                                    : deps.store.get_user_by_email(value);
      // Nobody by that name: a filter that matches nothing.
      p.user_id = user ? user->id : Uuid{};
    } else if (key == "organization") {
      auto org = Uuid::parse(value) ? deps.store.get_organization_by_id(*Uuid::parse(value))
                                    : deps.store.get_organization_by_name(value);
      if (!org)
        invalid_audit_search(key,
                             "organization \"" + value +
                                 "\" either does not exist, or you are unauthorized to view it");
      p.organization_id = org->id;
    } else if (key == "date_from") {
      p.time_from = date();
    } else if (key == "date_to") {
      p.time_to = date() + std::chrono::hours(24);
    } else {
      invalid_audit_search(key, "\"" + key + "\" is not a valid query param");
    }
  }
  return p;
}

json::value audit_json(Deps& deps, const store::AuditLogRow& row) {
  json::value user = nullptr;
  if (row.user_id)
    if (auto u = deps.store.get_user_by_id(*row.user_id)) user = user_json(deps, *u);
  json::value organization = nullptr;
  if (row.organization_id)
    if (auto o = deps.store.get_organization_by_id(*row.organization_id))
      organization = json::object{{"id", o->id.to_string()},
                                  {"name", o->name},
                                  {"display_name", o->display_name},
                                  {"icon", o->icon}};
  auto fields = json::parse(row.additional_fields);
  return json::object{{"id", row.id.to_string()},
                      {"request_id", row.request_id.to_string()},
                      {"time", format_rfc3339(row.time)},
                      {"ip", row.ip},
                      {"user_agent", row.user_agent},
                      {"resource_type", row.resource_type},
                      {"resource_id", row.resource_id.value_or(Uuid{}).to_string()},
                      {"resource_target", row.resource_target},
                      {"resource_icon", ""},
                      {"action", row.action},
                      {"diff", json::object{}},
                      {"status_code", row.status_code},
                      {"additional_fields", std::move(fields)},
                      {"description", description(row)},
                      {"resource_link", ""},
                      {"is_deleted", false},
                      {"organization_id", row.organization_id.value_or(Uuid{}).to_string()},
                      {"organization", std::move(organization)},
                      {"user", std::move(user)}};
}

}  // namespace

Response list_audit_logs(Deps& deps, Request& request, const Authenticated& auth) {
  auto q = request.query_values("q");
  auto params = parse_audit_search(deps, q.empty() ? "" : q.front());
  auto page = parse_pagination(request);
  // Auditors see everything; organization auditors their organizations; others nothing.
  auto scope =
      coderd::authorized_scope(auth.subject, coderd::Action::read, coderd::Resource::audit_log);
  params.readable_all = scope.everything;
  params.readable_organization_ids = scope.organizations;
  json::array logs;
  for (const auto& row :
       deps.store.list_audit_logs(params, page.limit > 0 ? page.limit : 25, page.offset))
    logs.push_back(audit_json(deps, row));
  return http::json_response(200, json::object{{"audit_logs", std::move(logs)},
                                               {"count", deps.store.count_audit_logs(params)}});
}

}  // namespace berth::api
