#include <algorithm>
#include <map>
#include <tuple>

#include "api/handlers.hpp"
#include "api/jobs_json.hpp"
#include "api/params.hpp"
#include "api/query.hpp"
#include "coderd/names.hpp"
#include "coderd/templates.hpp"
#include "common/error.hpp"
#include "http/error_response.hpp"

namespace berth::api {

namespace {

// Coder's template search grammar (`GET /templates?q=`); bare words match the display name.
struct TemplateSearch {
  bool deleted = false;
  store::ListTemplatesParams params;
  bool empty_result = false;  // e.g. an author that does not exist
};

[[noreturn]] void invalid_template_search(std::string field, std::string detail) {
  throw Error{ErrorCode::invalid,
              "Invalid template search query.",
              {},
              {{std::move(field), std::move(detail)}}};
}

TemplateSearch parse_template_search(Deps& deps, const Authenticated& auth, std::string query) {
  for (auto& c : query) c = char(std::tolower(static_cast<unsigned char>(c)));
  TemplateSearch s;
  for (const auto& term : parse_search_terms(query, "Invalid template search query.")) {
    auto key = term.has_key ? term.key : std::string("display_name");
    const auto& value = term.value;
    auto as_bool = [&] {
      if (value == "true") return true;
      if (value == "false") return false;
      invalid_template_search(key, "Query param \"" + key +
                                       "\" must be a valid boolean: strconv.ParseBool: parsing "
                                       "\"" +
                                       value + "\": invalid syntax");
    };
    auto as_uuid = [&](const std::string& text) {
      auto id = Uuid::parse(text);
      if (!id) invalid_template_search(key, "Query param \"" + key + "\" must be a valid uuid");
      return *id;
    };
    if (key == "deleted") {
      s.deleted = as_bool();
    } else if (key == "organization") {
      auto org = Uuid::parse(value) ? deps.store.get_organization_by_id(*Uuid::parse(value))
                                    : deps.store.get_organization_by_name(value);
      if (!org)
        invalid_template_search(key,
                                "Query param \"organization\" has invalid value: "
                                "organization \"" +
                                    value +
                                    "\" either does not exist, or you are unauthorized "
                                    "to view it");
      s.params.organization_id = org->id;
    } else if (key == "exact_name") {
      s.params.exact_name = value;
    } else if (key == "exact_display_name") {
      s.params.exact_display_name = value;
    } else if (key == "name") {
      s.params.name_contains = value;
    } else if (key == "display_name") {
      s.params.display_name_contains = value;
    } else if (key == "ids") {
      for (std::size_t start = 0; start <= value.size();) {
        auto end = value.find(',', start);
        if (end == std::string::npos) end = value.size();
        if (end > start) s.params.ids.push_back(as_uuid(value.substr(start, end - start)));
        start = end + 1;
      }
    } else if (key == "deprecated") {
      s.params.deprecated = as_bool();
    } else if (key == "has-ai-task") {
      s.params.has_ai_task = as_bool();
    } else if (key == "has_external_agent") {
      s.params.has_external_agent = as_bool();
    } else if (key == "author_id") {
      s.params.created_by = as_uuid(value);
    } else if (key == "author") {
      if (value == "me") {
        s.params.created_by = auth.user.id;
      } else if (auto user = deps.store.get_user_by_username(value)) {
        s.params.created_by = user->id;
      } else {
        s.empty_result = true;
      }
    } else {
      invalid_template_search(key, "\"" + key + "\" is not a valid query param");
    }
  }
  return s;
}

// The templates the caller may read that match `q=`, filtered, authorized and ordered by the
// store, rendered from one read of their creators and one of the organizations.
json::value visible_templates(Deps& deps, const Authenticated& auth, const Request& request,
                              const std::optional<Uuid>& organization_id) {
  auto q = request.query_values("q");
  auto search = parse_template_search(deps, auth, q.empty() ? "" : q.front());
  json::array out;
  // Berth keeps no deleted templates to list.
  if (search.deleted || search.empty_result) return out;
  auto& params = search.params;
  // The path's organization narrows the list like `organization:` does; with both, a
  // template must be in both.
  if (organization_id) {
    if (params.organization_id && *params.organization_id != *organization_id) return out;
    params.organization_id = organization_id;
  }
  auto scope =
      coderd::authorized_scope(auth.subject, coderd::Action::read, coderd::Resource::template_);
  params.readable_all = scope.everything;
  params.readable_organization_ids = scope.organizations;
  deps.store.in_read_tx([&](store::Store& tx) {
    auto templates = tx.list_templates(params);
    std::vector<Uuid> creator_ids;
    for (const auto& t : templates) creator_ids.push_back(t.created_by);
    std::map<Uuid, store::UserRow> creators;
    if (!templates.empty())
      for (auto& u : tx.list_users_by_ids(creator_ids)) creators.emplace(u.id, std::move(u));
    std::map<Uuid, store::OrganizationRow> organizations;
    if (!templates.empty())
      for (auto& o : tx.list_organizations()) organizations.emplace(o.id, std::move(o));
    for (const auto& t : templates) {
      auto creator = creators.find(t.created_by);
      auto org = organizations.find(t.organization_id);
      out.push_back(
          template_json(t, org == organizations.end() ? std::nullopt : std::optional(org->second),
                        creator == creators.end() ? std::nullopt : std::optional(creator->second)));
    }
  });
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
  coderd::read_template_policy(body, params.policy);
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

Response list_all_templates(Deps& deps, Request& request, const Authenticated& auth) {
  return http::json_response(200, visible_templates(deps, auth, request, std::nullopt));
}

Response list_organization_templates(Deps& deps, Request& request, const Authenticated& auth) {
  auto org = resolve_organization_param(deps, request, auth);
  return http::json_response(200, visible_templates(deps, auth, request, org.id));
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
  coderd::read_template_policy(body, tmpl.policy);
  body.finish();
  auto updated = deps.templates.update_template(auth.subject, tmpl);
  return http::json_response(200, template_json(deps, updated));
}

Response delete_template(Deps& deps, Request& request, const Authenticated& auth) {
  auto tmpl = resolve_template_param(deps, request, auth);
  deps.templates.delete_template(auth.subject, tmpl);
  return http::json_response(200, json::object{{"message", "Template has been deleted!"}});
}

// Coder's templateVersionsByTemplate: oldest first, archived versions only when asked for,
// then `after_id`, `offset` and `limit` (0: no limit), each validated like every other list.
Response list_template_versions(Deps& deps, Request& request, const Authenticated& auth) {
  auto tmpl = resolve_template_param(deps, request, auth);
  auto page = parse_pagination(request);
  bool include_archived = parse_query_bool(request, "include_archived", false);
  std::optional<store::TemplateVersionRow> after;
  if (page.after_id) {
    after = deps.store.get_template_version_by_id(*page.after_id);
    if (!after)
      throw Error{ErrorCode::invalid, "Record at \"after_id\" (\"" + page.after_id->to_string() +
                                          "\") does not exists."};  // sic, Coder's wording
  }
  json::array out;
  std::int64_t index = 0;
  for (const auto& v : deps.store.list_template_versions_by_template_id(tmpl.id)) {
    if (v.archived && !include_archived) continue;
    if (after && std::tie(v.created_at, v.id) <= std::tie(after->created_at, after->id)) continue;
    if (index++ < page.offset) continue;
    if (page.limit > 0 && std::int64_t(out.size()) >= page.limit) break;
    out.push_back(template_version_json(deps, v));
  }
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
