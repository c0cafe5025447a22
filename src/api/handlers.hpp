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
Response get_agent_binary(Deps& deps, Request& request);
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
// PUT /users/{user}/status/suspend and /status/activate.
Response suspend_user(Deps& deps, Request& request, const Authenticated& auth);
Response activate_user(Deps& deps, Request& request, const Authenticated& auth);
Response delete_user(Deps& deps, Request& request, const Authenticated& auth);
Response list_audit_logs(Deps& deps, Request& request, const Authenticated& auth);

// quiet_hours.cpp
Response get_user_quiet_hours(Deps& deps, Request& request, const Authenticated& auth);
Response update_user_quiet_hours(Deps& deps, Request& request, const Authenticated& auth);

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

// workspaces.cpp
Response create_user_workspace(Deps& deps, Request& request, const Authenticated& auth);
Response create_organization_member_workspace(Deps& deps, Request& request,
                                              const Authenticated& auth);
Response get_workspace(Deps& deps, Request& request, const Authenticated& auth);
Response get_workspace_by_owner_and_name(Deps& deps, Request& request, const Authenticated& auth);
Response list_workspaces(Deps& deps, Request& request, const Authenticated& auth);
Response update_workspace(Deps& deps, Request& request, const Authenticated& auth);
Response update_workspace_autostart(Deps& deps, Request& request, const Authenticated& auth);
Response update_workspace_ttl(Deps& deps, Request& request, const Authenticated& auth);
Response update_workspace_automatic_updates(Deps& deps, Request& request,
                                            const Authenticated& auth);
Response update_workspace_dormancy(Deps& deps, Request& request, const Authenticated& auth);
Response extend_workspace(Deps& deps, Request& request, const Authenticated& auth);
Response favorite_workspace(Deps& deps, Request& request, const Authenticated& auth);
Response unfavorite_workspace(Deps& deps, Request& request, const Authenticated& auth);
Response resolve_workspace_autostart(Deps& deps, Request& request, const Authenticated& auth);
Response post_workspace_usage(Deps& deps, Request& request, const Authenticated& auth);
Response watch_workspace(Deps& deps, Request& request, const Authenticated& auth);
Response watch_workspace_ws(Deps& deps, Request& request, const Authenticated& auth);

// workspace_builds.cpp
Response create_workspace_build(Deps& deps, Request& request, const Authenticated& auth);
Response list_workspace_builds(Deps& deps, Request& request, const Authenticated& auth);
Response get_workspace_build(Deps& deps, Request& request, const Authenticated& auth);
Response get_workspace_build_by_number(Deps& deps, Request& request, const Authenticated& auth);
Response cancel_workspace_build(Deps& deps, Request& request, const Authenticated& auth);
Response get_workspace_build_logs(Deps& deps, Request& request, const Authenticated& auth);
Response get_workspace_build_parameters(Deps& deps, Request& request, const Authenticated& auth);
Response get_workspace_build_resources(Deps& deps, Request& request, const Authenticated& auth);
Response get_workspace_build_state(Deps& deps, Request& request, const Authenticated& auth);
Response update_workspace_build_state(Deps& deps, Request& request, const Authenticated& auth);
Response get_workspace_build_timings(Deps& deps, Request& request, const Authenticated& auth);
Response get_workspace_timings(Deps& deps, Request& request, const Authenticated& auth);

// workspace_agents.cpp
Response get_workspace_agent(Deps& deps, Request& request, const Authenticated& auth);
Response get_workspace_agent_logs(Deps& deps, Request& request, const Authenticated& auth);
Response watch_workspace_agent_metadata(Deps& deps, Request& request, const Authenticated& auth);
Response watch_workspace_agent_metadata_ws(Deps& deps, Request& request, const Authenticated& auth);
Response workspace_agent_pty(Deps& deps, Request& request, const Authenticated& auth);
Response workspace_agent_stream(Deps& deps, Request& request, const Authenticated& auth);
// Called with the agent's token.
Response agent_rpc(Deps& deps, Request& request, const coderd::AgentIdentity& agent);
Response get_agent_manifest(Deps& deps, Request& request, const coderd::AgentIdentity& agent);
Response patch_agent_logs(Deps& deps, Request& request, const coderd::AgentIdentity& agent);
Response post_agent_log_source(Deps& deps, Request& request, const coderd::AgentIdentity& agent);

// tasks.cpp
Response list_tasks(Deps& deps, Request& request, const Authenticated& auth);
Response create_task(Deps& deps, Request& request, const Authenticated& auth);
Response get_task(Deps& deps, Request& request, const Authenticated& auth);
Response delete_task(Deps& deps, Request& request, const Authenticated& auth);
Response update_task_input(Deps& deps, Request& request, const Authenticated& auth);
Response pause_task(Deps& deps, Request& request, const Authenticated& auth);
Response resume_task(Deps& deps, Request& request, const Authenticated& auth);
Response send_task_input(Deps& deps, Request& request, const Authenticated& auth);
Response get_task_logs(Deps& deps, Request& request, const Authenticated& auth);
Response patch_agent_app_status(Deps& deps, Request& request, const coderd::AgentIdentity& agent);
Response post_agent_task_log_snapshot(Deps& deps, Request& request,
                                      const coderd::AgentIdentity& agent);

// provisioner_keys.cpp
Response create_provisioner_key(Deps& deps, Request& request, const Authenticated& auth);
Response list_provisioner_keys(Deps& deps, Request& request, const Authenticated& auth);
Response delete_provisioner_key(Deps& deps, Request& request, const Authenticated& auth);
// Called with a provisioner key (the Coder-Provisioner-Daemon-Key header).
Response get_provisioner_key(Deps& deps, Request& request, const store::ProvisionerKeyRow& key);

// provisioner_daemons.cpp
Response list_provisioner_daemons(Deps& deps, Request& request, const Authenticated& auth);
// Called with a provisioner key: Berth's protocol for external provisioner daemons.
Response acquire_provisioner_job(Deps& deps, Request& request, const store::ProvisionerKeyRow& key);
Response cancel_provisioner_job_acquire(Deps& deps, Request& request,
                                        const store::ProvisionerKeyRow& key);
Response post_provisioner_job_logs(Deps& deps, Request& request,
                                   const store::ProvisionerKeyRow& key);
Response heartbeat_provisioner_job(Deps& deps, Request& request,
                                   const store::ProvisionerKeyRow& key);
Response complete_provisioner_job(Deps& deps, Request& request,
                                  const store::ProvisionerKeyRow& key);
Response fail_provisioner_job(Deps& deps, Request& request, const store::ProvisionerKeyRow& key);

}  // namespace berth::api
