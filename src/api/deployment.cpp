#include "api/deployment.hpp"

#include <map>

#include "api/auth.hpp"
#include "api/jobs_json.hpp"
#include "api/params.hpp"
#include "coderd/rbac.hpp"
#include "coderd/templates.hpp"
#include "coderd/workspaces.hpp"
#include "common/error.hpp"
#include "http/error_response.hpp"

namespace berth::api {

namespace {

// The enterprise features an open-source deployment lists as not entitled.
constexpr const char* kFeatures[] = {"user_limit",
                                     "audit_log",
                                     "connection_log",
                                     "browser_only",
                                     "scim",
                                     "template_rbac",
                                     "user_role_management",
                                     "high_availability",
                                     "multiple_external_auth",
                                     "external_provisioner_daemons",
                                     "appearance",
                                     "advanced_template_scheduling",
                                     "workspace_proxy",
                                     "external_token_encryption",
                                     "workspace_batch_actions",
                                     "access_control",
                                     "control_shared_ports",
                                     "custom_roles",
                                     "multiple_organizations",
                                     "workspace_prebuilds",
                                     "managed_agent_limit",
                                     "aibridge"};

std::optional<coderd::Resource> resource_named(const std::string& name) {
  static const std::map<std::string, coderd::Resource> kResources = {
      {"user", coderd::Resource::user},
      {"organization", coderd::Resource::organization},
      {"organization_member", coderd::Resource::organization_member},
      {"api_key", coderd::Resource::api_key},
      {"assign_role", coderd::Resource::assign_role},
      {"assign_org_role", coderd::Resource::assign_org_role},
      {"template", coderd::Resource::template_},
      {"file", coderd::Resource::file},
      {"workspace", coderd::Resource::workspace},
      {"provisioner_jobs", coderd::Resource::provisioner_job},
      {"provisioner_daemon", coderd::Resource::provisioner_daemon},
      {"audit_log", coderd::Resource::audit_log},
      {"system", coderd::Resource::system},
      {"deployment_config", coderd::Resource::system},
      {"deployment_stats", coderd::Resource::system},
      {"replicas", coderd::Resource::system}};
  auto it = kResources.find(name);
  if (it == kResources.end()) return std::nullopt;
  return it->second;
}

std::optional<coderd::Action> action_named(const std::string& name) {
  static const std::map<std::string, coderd::Action> kActions = {
      {"create", coderd::Action::create},
      {"read", coderd::Action::read},
      {"update", coderd::Action::update},
      {"delete", coderd::Action::delete_},
      {"use", coderd::Action::use},
      {"read_personal", coderd::Action::read_personal},
      {"update_personal", coderd::Action::update_personal},
      // A workspace's own verbs are what updating it allows in Berth.
      {"start", coderd::Action::update},
      {"stop", coderd::Action::update},
      {"ssh", coderd::Action::update},
      {"application_connect", coderd::Action::update}};
  auto it = kActions.find(name);
  if (it == kActions.end()) return std::nullopt;
  return it->second;
}

// An id field of an authorization object: a UUID, `me` for the caller, or absent.
std::optional<Uuid> object_id(const json::object& o, const char* key, const Authenticated& auth,
                              const std::string& check) {
  auto text = json::string_at(o, key);
  if (text.empty()) return std::nullopt;
  if (text == "me") return auth.user.id;
  auto id = Uuid::parse(text);
  if (!id)
    throw Error{ErrorCode::invalid, "Object's \"" + std::string(key) +
                                        "\" field must be a valid UUID for key \"" + check + "\"."};
  return id;
}

}  // namespace

Response get_auth_methods(Deps&, Request&) {
  return http::json_response(
      200, json::object{
               {"terms_of_service_url", ""},
               {"password", json::object{{"enabled", true}}},
               {"github", json::object{{"enabled", false}, {"default_provider_configured", false}}},
               {"oidc", json::object{{"enabled", false}, {"signInText", ""}, {"iconUrl", ""}}}});
}

Response get_appearance(Deps&, Request&) {
  return http::json_response(200, json::object{{"application_name", ""},
                                               {"logo_url", ""},
                                               {"docs_url", ""},
                                               {"service_banner", json::object{{"enabled", false}}},
                                               {"announcement_banners", json::array{}},
                                               {"support_links", json::array{}}});
}

Response check_authorization(Deps&, Request& request, const Authenticated& auth) {
  json::ObjectReader body(json::parse_body(request.body));
  const auto* checks = body.object_field("checks");
  body.finish();
  json::object out;
  if (!checks) return http::json_response(200, out);
  for (const auto& [key, value] : *checks) {
    std::string name(key);
    if (!value.is_object())
      throw Error{ErrorCode::invalid, "Check \"" + name + "\" must be an object."};
    const auto& check = value.as_object();
    const auto* object = check.if_contains("object");
    if (!object || !object->is_object() ||
        json::string_at(object->as_object(), "resource_type").empty())
      throw Error{ErrorCode::invalid,
                  "Object's \"resource_type\" field must be defined for key \"" + name + "\"."};
    const auto& o = object->as_object();
    auto resource = resource_named(json::string_at(o, "resource_type"));
    auto action = action_named(json::string_at(check, "action"));
    auto owner = object_id(o, "owner_id", auth, name);
    auto organization = object_id(o, "organization_id", auth, name);
    // Resource types Berth does not have (groups, licences, proxies…) are never allowed.
    out[key] =
        resource && action &&
        coderd::authorize(auth.subject, *action, coderd::Object{*resource, owner, organization});
  }
  return http::json_response(200, out);
}

Response get_entitlements(Deps& deps, Request&, const Authenticated&) {
  json::object features;
  for (const char* name : kFeatures)
    features[name] = json::object{{"entitlement", "not_entitled"}, {"enabled", false}};
  return http::json_response(200, json::object{{"features", std::move(features)},
                                               {"warnings", json::array{}},
                                               {"errors", json::array{}},
                                               {"has_license", false},
                                               {"trial", false},
                                               {"require_telemetry", false},
                                               {"refreshed_at", format_rfc3339(deps.clock.now())}});
}

Response get_experiments(Deps&, Request&, const Authenticated&) {
  return http::json_response(200, json::array{});
}

Response get_available_experiments(Deps&, Request&, const Authenticated&) {
  return http::json_response(200, json::object{{"safe", json::array{}}});
}

Response get_regions(Deps& deps, Request&, const Authenticated&) {
  // Coder's primary region: the deployment itself serves path-based apps.
  json::object region{{"id", deps.build.deployment_id},
                      {"name", "primary"},
                      {"display_name", "Default"},
                      {"icon_url", "/emojis/1f3e1.png"},
                      {"healthy", true},
                      {"path_app_url", deps.build.access_url},
                      {"wildcard_hostname", ""}};
  return http::json_response(200, json::object{{"regions", json::array{std::move(region)}}});
}

Response get_replicas(Deps& deps, Request&, const Authenticated& auth) {
  // Coder's authorizer asks for reading replicas, which only owners may do; everyone else is
  // told there is nothing here.
  if (!coderd::authorize(auth.subject, coderd::Action::read,
                         coderd::Object{coderd::Resource::system, std::nullopt, std::nullopt}))
    throw Error{ErrorCode::not_found, kResourceNotFoundMessage};
  json::array out;
  if (deps.replicas)
    for (const auto& r : deps.replicas->list_alive())
      out.push_back(json::object{{"id", r.id.to_string()},
                                 {"hostname", r.hostname},
                                 {"created_at", format_rfc3339(r.started_at)},
                                 {"relay_address", r.relay_address},
                                 {"region_id", r.region_id},
                                 {"error", r.error},
                                 {"database_latency", r.database_latency_us}});
  return http::json_response(200, out);
}

Response list_template_examples(Deps& deps, Request& request, const Authenticated& auth) {
  if (!request.param("organization").empty()) resolve_organization_param(deps, request, auth);
  return http::json_response(200, json::array{});
}

Response get_user_login_type(Deps& deps, Request& request, const Authenticated& auth) {
  auto user = resolve_user_param(deps, request, auth);
  // Only your own, as in Coder (admins who may read the user included).
  if (user.id != auth.user.id)
    throw Error{ErrorCode::forbidden, "You are not authorized to view this user's login type."};
  return http::json_response(200, json::object{{"login_type", user.login_type}});
}

Response get_user_autofill_parameters(Deps& deps, Request& request, const Authenticated& auth) {
  auto user = resolve_user_param(deps, request, auth);
  // The values come from the user's workspaces: personal data (Coder's authorizer asks for
  // read_personal), not for the auditors and template admins who may read the user.
  coderd::require_visible(auth.subject, coderd::Action::read_personal, coderd::user_object(user));
  auto raw = request.query_values("template_id");
  auto template_id = raw.empty() ? std::nullopt : Uuid::parse(raw[0]);
  if (!template_id)
    throw Error{ErrorCode::invalid,
                "Invalid query parameters.",
                {},
                {{"template_id", "Query param \"template_id\" must be a valid uuid"}}};
  store::ListWorkspacesParams filter;
  filter.owner_id = user.id;
  filter.template_ids = {*template_id};
  filter.filter_templates = true;
  // Per name, the value of the most recent build that set it.
  std::map<std::string, std::pair<TimePoint, std::string>> latest;
  for (const auto& summary : deps.store.list_workspace_summaries(filter)) {
    if (!coderd::authorize(auth.subject, coderd::Action::read,
                           coderd::workspace_object(summary.workspace)))
      continue;
    auto build = deps.store.get_latest_workspace_build(summary.workspace.id);
    if (!build) continue;
    auto version = deps.store.get_template_version_by_id(build->template_version_id);
    auto definitions = json::parse(version ? version->parameters : "[]");
    for (const auto& p : deps.store.list_build_parameters(build->id)) {
      bool ephemeral = false;
      for (const auto& d : definitions.as_array())
        if (json::string_at(d.as_object(), "name") == p.name) {
          const auto* e = d.as_object().if_contains("ephemeral");
          ephemeral = e && e->is_bool() && e->as_bool();
        }
      if (ephemeral) continue;
      auto it = latest.find(p.name);
      if (it == latest.end() || it->second.first < build->created_at)
        latest[p.name] = {build->created_at, p.value};
    }
  }
  json::array out;
  for (const auto& [name, value] : latest)
    out.push_back(json::object{{"name", name}, {"value", value.second}});
  return http::json_response(200, out);
}

Response get_organization_template_version_by_name(Deps& deps, Request& request,
                                                   const Authenticated& auth) {
  auto org = resolve_organization_param(deps, request, auth);
  auto tmpl =
      deps.store.get_template_by_organization_and_name(org.id, request.param("templatename"));
  if (!tmpl || !coderd::authorize(auth.subject, coderd::Action::read,
                                  coderd::template_object(tmpl->organization_id)))
    throw Error{ErrorCode::not_found, kResourceNotFoundMessage};
  auto name = request.param("templateversionname");
  auto version = deps.store.get_template_version_by_template_and_name(tmpl->id, name);
  if (!version)
    throw Error{ErrorCode::not_found, "No template version found by name \"" + name + "\"."};
  return http::json_response(200, template_version_json(deps, *version));
}

}  // namespace berth::api
