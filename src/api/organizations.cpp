#include "api/auth.hpp"
#include "api/convert.hpp"
#include "api/handlers.hpp"
#include "api/params.hpp"
#include "coderd/users.hpp"
#include "common/error.hpp"
#include "http/error_response.hpp"

namespace berth::api {

namespace {

coderd::Object organization_object(const store::OrganizationRow& org) {
  return coderd::Object{coderd::Resource::organization, std::nullopt, org.id};
}

}  // namespace

Response list_organizations(Deps& deps, Request&, const Authenticated& auth) {
  json::array out;
  for (const auto& org : deps.store.list_organizations())
    if (coderd::authorize(auth.subject, coderd::Action::read, organization_object(org)))
      out.push_back(sdk::to_json(to_sdk(org)));
  return http::json_response(200, out);
}

Response get_organization(Deps& deps, Request& request, const Authenticated& auth) {
  return http::json_response(200,
                             sdk::to_json(to_sdk(resolve_organization_param(deps, request, auth))));
}

Response list_user_organizations(Deps& deps, Request& request, const Authenticated& auth) {
  auto user = resolve_user_param(deps, request, auth);
  json::array out;
  for (const auto& org : deps.store.list_organizations_by_user_id(user.id))
    if (coderd::authorize(auth.subject, coderd::Action::read, organization_object(org)))
      out.push_back(sdk::to_json(to_sdk(org)));
  return http::json_response(200, out);
}

Response list_organization_members(Deps& deps, Request& request, const Authenticated& auth) {
  auto org = resolve_organization_param(deps, request, auth);
  coderd::require_visible(
      auth.subject, coderd::Action::read,
      coderd::Object{coderd::Resource::organization_member, std::nullopt, org.id});
  json::array out;
  for (const auto& m : deps.store.list_organization_members_by_organization_id(org.id)) {
    auto user = deps.store.get_user_by_id(m.user_id);
    if (!user || user->deleted) continue;
    auto org_id = org.id.to_string();
    sdk::OrganizationMember wire{org.id,
                                 user->id,
                                 user->username,
                                 user->name,
                                 user->email,
                                 user->avatar_url,
                                 slim_roles(m.roles, org_id),
                                 slim_roles(user->rbac_roles),
                                 m.created_at,
                                 m.updated_at,
                                 user->status,
                                 user->login_type};
    out.push_back(sdk::to_json(wire));
  }
  return http::json_response(200, out);
}

}  // namespace berth::api
