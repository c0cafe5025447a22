#include "coderd/templates.hpp"
#include "api/handlers.hpp"
#include "api/jobs_json.hpp"
#include "api/params.hpp"
#include "coderd/names.hpp"
#include "common/error.hpp"
#include "http/error_response.hpp"

namespace berth::api {

namespace {

json::value visible_templates(Deps& deps, const Authenticated& auth,
                              const std::optional<Uuid>& organization_id) {
  json::array out;
  for (const auto& t : deps.store.list_templates(organization_id))
    if (coderd::authorize(auth.subject, coderd::Action::read,
                          coderd::template_object(t.organization_id)))
      out.push_back(template_json(deps, t));
  return out;
}

void read_names(json::ObjectReader& body, store::TemplateRow& t) {
  if (auto v = body.string("name")) {
    if (auto problem = coderd::name_problem(*v))
      body.invalid("name",
                   "Validation failed for tag \"template_name\" with value: \"" + *v + "\"");
    t.name = *v;
  }
  if (auto v = body.string("display_name")) {
    if (v->size() > 64) body.invalid("display_name", "must be <= 64 characters");
    t.display_name = *v;
  }
  if (auto v = body.string("description")) {
    if (v->size() > 128) body.invalid("description", "must be <= 128 characters");
    t.description = *v;
  }
  if (auto v = body.string("icon")) t.icon = *v;
}

}  // namespace

Response create_template(Deps& deps, Request& request, const Authenticated& auth) {
  auto org = resolve_organization_param(deps, request, auth);
  json::ObjectReader body(json::parse_body(request.body));
  store::TemplateRow names;
  auto name = body.required_string("name");
  read_names(body, names);
  auto version_id = body.uuid("template_version_id");
  if (!version_id)
    body.invalid("template_version_id", "Validation failed for tag \"required\" with value: \"\"");
  coderd::CreateTemplateParams params;
  read_template_policy(body, params.policy);
  body.finish();
  params.name = name;
  params.display_name = names.display_name;
  params.description = names.description;
  params.icon = names.icon;
  params.version_id = *version_id;
  auto tmpl = deps.templates.create_template(auth.subject, org, params);
  return http::json_response(201, template_json(deps, tmpl));
}

Response get_template(Deps& deps, Request& request, const Authenticated& auth) {
  return http::json_response(200, template_json(deps, resolve_template_param(deps, request, auth)));
}

Response list_all_templates(Deps& deps, Request&, const Authenticated& auth) {
  return http::json_response(200, visible_templates(deps, auth, std::nullopt));
}

Response list_organization_templates(Deps& deps, Request& request, const Authenticated& auth) {
  auto org = resolve_organization_param(deps, request, auth);
  return http::json_response(200, visible_templates(deps, auth, org.id));
}

Response get_organization_template_by_name(Deps& deps, Request& request,
                                           const Authenticated& auth) {
  auto org = resolve_organization_param(deps, request, auth);
  auto tmpl =
      deps.store.get_template_by_organization_and_name(org.id, request.param("templatename"));
  if (!tmpl || !coderd::authorize(auth.subject, coderd::Action::read,
                                  coderd::template_object(tmpl->organization_id)))
    throw Error{ErrorCode::not_found, kResourceNotFoundMessage};
  return http::json_response(200, template_json(deps, *tmpl));
}

Response update_template(Deps& deps, Request& request, const Authenticated& auth) {
  auto tmpl = resolve_template_param(deps, request, auth);
  json::ObjectReader body(json::parse_body(request.body));
  read_names(body, tmpl);
  auto policy = coderd::template_policy_from(tmpl.policy);
  read_template_policy(body, policy);
  body.finish();
  tmpl.policy = json::serialize(coderd::to_json(policy));
  auto updated = deps.templates.update_template(auth.subject, tmpl);
  return http::json_response(200, template_json(deps, updated));
}

Response delete_template(Deps& deps, Request& request, const Authenticated& auth) {
  auto tmpl = resolve_template_param(deps, request, auth);
  deps.templates.delete_template(auth.subject, tmpl);
  return http::json_response(200, json::object{{"message", "Template has been deleted!"}});
}

Response list_template_versions(Deps& deps, Request& request, const Authenticated& auth) {
  auto tmpl = resolve_template_param(deps, request, auth);
  json::array out;
  for (const auto& v : deps.store.list_template_versions_by_template_id(tmpl.id))
    out.push_back(template_version_json(deps, v));
  return http::json_response(200, out);
}

Response get_template_version_by_name(Deps& deps, Request& request, const Authenticated& auth) {
  auto tmpl = resolve_template_param(deps, request, auth);
  auto version = deps.store.get_template_version_by_template_and_name(
      tmpl.id, request.param("templateversionname"));
  if (!version)
    throw Error{ErrorCode::not_found, "No template version found by name \"" +
                                          request.param("templateversionname") + "\"."};
  return http::json_response(200, template_version_json(deps, *version));
}

Response update_active_template_version(Deps& deps, Request& request, const Authenticated& auth) {
  auto tmpl = resolve_template_param(deps, request, auth);
  json::ObjectReader body(json::parse_body(request.body));
  auto id = body.uuid("id");
  if (!id) body.invalid("id", "Validation failed for tag \"required\" with value: \"\"");
  body.finish();
  deps.templates.promote(auth.subject, tmpl, *id);
  return http::json_response(200,
                             json::object{{"message", "Updated the active template version!"}});
}

}  // namespace berth::api
