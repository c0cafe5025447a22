#pragma once

#include "api/deps.hpp"
#include "coderd/api_keys.hpp"
#include "http/request.hpp"

namespace berth::api {

using coderd::Authenticated;
using http::Request;
using http::Response;

// buildinfo.cpp
Response get_healthz(Deps& deps, Request& request);
Response get_api_root(Deps& deps, Request& request);
Response get_buildinfo(Deps& deps, Request& request);

// users.cpp
Response get_first_user(Deps& deps, Request& request);
Response create_first_user(Deps& deps, Request& request);
Response login_with_password(Deps& deps, Request& request);
Response logout(Deps& deps, Request& request, const Authenticated& auth);
Response get_user(Deps& deps, Request& request, const Authenticated& auth);
Response list_users(Deps& deps, Request& request, const Authenticated& auth);
Response create_user(Deps& deps, Request& request, const Authenticated& auth);
Response update_user_roles(Deps& deps, Request& request, const Authenticated& auth);
Response get_user_roles(Deps& deps, Request& request, const Authenticated& auth);

// api_keys.cpp
Response create_session_key(Deps& deps, Request& request, const Authenticated& auth);
Response create_token(Deps& deps, Request& request, const Authenticated& auth);
Response list_tokens(Deps& deps, Request& request, const Authenticated& auth);
Response get_token_by_name(Deps& deps, Request& request, const Authenticated& auth);
Response get_token_config(Deps& deps, Request& request, const Authenticated& auth);
Response get_api_key(Deps& deps, Request& request, const Authenticated& auth);
Response delete_api_key(Deps& deps, Request& request, const Authenticated& auth);

// organizations.cpp
Response list_organizations(Deps& deps, Request& request, const Authenticated& auth);
Response get_organization(Deps& deps, Request& request, const Authenticated& auth);
Response list_user_organizations(Deps& deps, Request& request, const Authenticated& auth);
Response list_organization_members(Deps& deps, Request& request, const Authenticated& auth);

// files.cpp
Response create_file(Deps& deps, Request& request, const Authenticated& auth);
Response get_file(Deps& deps, Request& request, const Authenticated& auth);

// templates.cpp
Response create_template(Deps& deps, Request& request, const Authenticated& auth);
Response get_template(Deps& deps, Request& request, const Authenticated& auth);
Response list_all_templates(Deps& deps, Request& request, const Authenticated& auth);
Response list_organization_templates(Deps& deps, Request& request, const Authenticated& auth);
Response get_organization_template_by_name(Deps& deps, Request& request, const Authenticated& auth);
Response update_template(Deps& deps, Request& request, const Authenticated& auth);
Response delete_template(Deps& deps, Request& request, const Authenticated& auth);
Response list_template_versions(Deps& deps, Request& request, const Authenticated& auth);
Response get_template_version_by_name(Deps& deps, Request& request, const Authenticated& auth);
Response update_active_template_version(Deps& deps, Request& request, const Authenticated& auth);

// template_versions.cpp
Response create_template_version(Deps& deps, Request& request, const Authenticated& auth);
Response get_template_version(Deps& deps, Request& request, const Authenticated& auth);
Response update_template_version(Deps& deps, Request& request, const Authenticated& auth);
Response cancel_template_version(Deps& deps, Request& request, const Authenticated& auth);
Response get_template_version_logs(Deps& deps, Request& request, const Authenticated& auth);
Response get_template_version_rich_parameters(Deps& deps, Request& request,
                                              const Authenticated& auth);
Response get_template_version_resources(Deps& deps, Request& request, const Authenticated& auth);
Response get_template_version_presets(Deps& deps, Request& request, const Authenticated& auth);
Response get_template_version_variables(Deps& deps, Request& request, const Authenticated& auth);
Response get_template_version_external_auth(Deps& deps, Request& request,
                                            const Authenticated& auth);

}  // namespace berth::api
