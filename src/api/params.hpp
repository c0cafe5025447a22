#pragma once

#include "api/deps.hpp"
#include "coderd/api_keys.hpp"
#include "http/request.hpp"
#include "store/rows.hpp"

namespace berth::api {

// Path parameters that name a resource, resolved and checked for read access: a resource the
// caller may not read answers 404 exactly like one that does not exist.
store::OrganizationRow resolve_organization_param(Deps& deps, const http::Request& request,
                                                  const coderd::Authenticated& auth);
store::TemplateRow resolve_template_param(Deps& deps, const http::Request& request,
                                          const coderd::Authenticated& auth);
store::TemplateVersionRow resolve_template_version_param(Deps& deps, const http::Request& request,
                                                         const coderd::Authenticated& auth);

// `{workspace}`: a UUID, deleted workspaces included, readable by the caller (404 otherwise).
store::WorkspaceRow resolve_workspace_param(Deps& deps, const http::Request& request,
                                            const coderd::Authenticated& auth);
// `{workspacebuild}` and its workspace, under the same rule.
std::pair<store::WorkspaceBuildRow, store::WorkspaceRow> resolve_build_param(
    Deps& deps, const http::Request& request, const coderd::Authenticated& auth);

// A UUID path segment; a malformed one is 400 `Invalid UUID "<raw>".`.
Uuid parse_uuid_param(const http::Request& request, const std::string& name);

}  // namespace berth::api
