#include "api/params.hpp"

#include "coderd/rbac.hpp"
#include "coderd/templates.hpp"
#include "coderd/users.hpp"
#include "coderd/workspaces.hpp"
#include "common/error.hpp"

namespace berth::api {

Uuid parse_uuid_param(const http::Request& request, const std::string& name) {
  const auto& raw = request.param(name);
  auto id = Uuid::parse(raw);
  if (!id)
    throw Error{ErrorCode::invalid, "Invalid UUID \"" + raw + "\".",
                "invalid UUID length: " + std::to_string(raw.size())};
  return *id;
}

store::OrganizationRow resolve_organization_param(Deps& deps, const http::Request& request,
                                                  const coderd::Authenticated& auth) {
  const auto& raw = request.param("organization");
  std::optional<store::OrganizationRow> org;
  if (auto id = Uuid::parse(raw))
    org = deps.store.get_organization_by_id(*id);
  else if (raw == "default")
    org = deps.store.get_default_organization();
  else
    org = deps.store.get_organization_by_name(raw);
  if (!org) throw Error{ErrorCode::not_found, kResourceNotFoundMessage};
  coderd::require_visible(auth.subject, coderd::Action::read,
                          coderd::Object{coderd::Resource::organization, std::nullopt, org->id});
  return *org;
}

store::TemplateRow resolve_template_param(Deps& deps, const http::Request& request,
                                          const coderd::Authenticated& auth) {
  auto id = parse_uuid_param(request, "template");
  auto tmpl = deps.store.get_template_by_id(id);
  if (!tmpl || tmpl->deleted) throw Error{ErrorCode::not_found, kResourceNotFoundMessage};
  coderd::require_visible(auth.subject, coderd::Action::read,
                          coderd::template_object(tmpl->organization_id));
  return *tmpl;
}

store::TemplateVersionRow resolve_template_version_param(Deps& deps, const http::Request& request,
                                                         const coderd::Authenticated& auth) {
  auto id = parse_uuid_param(request, "templateversion");
  auto version = deps.store.get_template_version_by_id(id);
  if (!version) throw Error{ErrorCode::not_found, kResourceNotFoundMessage};
  coderd::require_visible(auth.subject, coderd::Action::read,
                          coderd::template_object(version->organization_id));
  return *version;
}

store::WorkspaceRow resolve_workspace_param(Deps& deps, const http::Request& request,
                                            const coderd::Authenticated& auth) {
  auto id = parse_uuid_param(request, "workspace");
  auto workspace = deps.store.get_workspace_by_id(id);
  if (!workspace) throw Error{ErrorCode::not_found, kResourceNotFoundMessage};
  coderd::require_visible(auth.subject, coderd::Action::read, coderd::workspace_object(*workspace));
  return *workspace;
}

std::pair<store::WorkspaceBuildRow, store::WorkspaceRow> resolve_build_param(
    Deps& deps, const http::Request& request, const coderd::Authenticated& auth) {
  auto id = parse_uuid_param(request, "workspacebuild");
  auto build = deps.store.get_workspace_build_by_id(id);
  if (!build) throw Error{ErrorCode::not_found, kResourceNotFoundMessage};
  auto workspace = deps.store.get_workspace_by_id(build->workspace_id);
  if (!workspace) throw Error{ErrorCode::not_found, kResourceNotFoundMessage};
  coderd::require_visible(auth.subject, coderd::Action::read, coderd::workspace_object(*workspace));
  return {*build, *workspace};
}

}  // namespace berth::api
