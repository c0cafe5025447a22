#include "api/routes.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>

#include "api/app_proxy.hpp"
#include "api/audit.hpp"
#include "api/auth.hpp"
#include "api/deployment.hpp"
#include "api/handlers.hpp"
#include "api/rate_limits.hpp"
#include "common/error.hpp"
#include "http/error_response.hpp"

namespace berth::api {

namespace {

using Public = Response (*)(Deps&, Request&);
using Private = Response (*)(Deps&, Request&, const Authenticated&);
using AgentOnly = Response (*)(Deps&, Request&, const coderd::AgentIdentity&);
using DaemonOnly = Response (*)(Deps&, Request&, const store::ProvisionerKeyRow&);

// Middleware, outermost first:
// 1. build-version header: clients (Coder's CLI) read it from every response, errors too;
// 2. error mapping: every berth::Error becomes Coder's JSON body (one place, one table);
// 3. authentication (private routes only): token -> Subject, before any handler code runs;
// 4. rate limits, per caller (user, agent, or address when anonymous) and path;
// 5. parameter resolution ({user}, {organization}) inside handlers via resolve_*_param,
//    which answers 404 for what the subject may not read.
template <typename Handle>
Response within_rate_limits(Deps& deps, Request& r, const RateLimitCaller& caller,
                            Handle&& handle) {
  if (!deps.rate_limits) return handle();
  auto verdict = deps.rate_limits->check(r, caller);
  if (verdict.refusal) return std::move(*verdict.refusal);
  auto response = handle();
  for (auto& [name, value] : verdict.headers) response.set_header(name, value);
  return response;
}

RateLimitCaller address_of(const Request& r) {
  return {"ip:" + client_ip(r), false};
}

// Runs `handle`, and records it in the audit log when the route is audited, however it ends.
template <typename Handle>
Response audited(Deps& deps, Request& r, const std::optional<AuditSpec>& audit,
                 const coderd::Authenticated* auth, Handle&& handle) {
  if (!audit) return handle();
  try {
    auto response = handle();
    record_audit(deps, r, *audit, auth, &response, response.status);
    return response;
  } catch (const Error& e) {
    record_audit(deps, r, *audit, auth, nullptr, http::status_for(e.code()));
    throw;
  }
}

http::Handler route_handler(Deps& deps, Public fn, std::optional<AuditSpec> audit) {
  return [&deps, fn, audit](Request& r) {
    return within_rate_limits(deps, r, address_of(r), [&] {
      return audited(deps, r, audit, nullptr, [&] { return fn(deps, r); });
    });
  };
}

http::Handler route_handler(Deps& deps, Private fn, std::optional<AuditSpec> audit) {
  return [&deps, fn, audit](Request& r) {
    // An anonymous request gets its 401 without an exception: unwinding costs more than the
    // rest of the request and takes a process-wide lock.
    if (session_token_from(r).empty())
      return within_rate_limits(deps, r, address_of(r),
                                [] { return http::error_response(coderd::missing_token_error()); });
    auto auth = authenticate(deps, r);
    const auto& roles = auth->user.rbac_roles;
    RateLimitCaller caller{"user:" + auth->user.id.to_string(),
                           std::find(roles.begin(), roles.end(), "owner") != roles.end()};
    return within_rate_limits(deps, r, caller, [&] {
      return audited(deps, r, audit, auth.get(), [&] { return fn(deps, r, *auth); });
    });
  };
}

// Routes workspace agents call: the token is an agent token, never a user's session. Agents
// are counted each on their own: many share an address (one host, one NAT).
http::Handler route_handler(Deps& deps, AgentOnly fn, const std::optional<AuditSpec>&) {
  return [&deps, fn](Request& r) {
    auto agent = deps.agents.authenticate(session_token_from(r));
    RateLimitCaller caller{"agent:" + agent.agent.id.to_string(), false};
    return within_rate_limits(deps, r, caller, [&] { return fn(deps, r, agent); });
  };
}

// Routes external provisioner daemons call, with a provisioner key. Not rate limited: a key's
// daemons poll, heartbeat and send logs as their jobs need, and only a key's holder gets in.
http::Handler route_handler(Deps& deps, DaemonOnly fn, const std::optional<AuditSpec>&) {
  return [&deps, fn](Request& r) {
    if (!deps.provisioner_keys)
      throw Error{ErrorCode::unauthenticated, "Provisioner daemon key invalid."};
    auto key =
        deps.provisioner_keys->authenticate(r.header("coder-provisioner-daemon-key").value_or(""));
    return fn(deps, r, key);
  };
}

RouteKind kind_of(Public) {
  return RouteKind::public_;
}
RouteKind kind_of(Private) {
  return RouteKind::private_;
}
RouteKind kind_of(AgentOnly) {
  return RouteKind::agent;
}
RouteKind kind_of(DaemonOnly) {
  return RouteKind::provisioner_daemon;
}

// The table, handed to `add` one route at a time (method, path, handler function), so that
// the router and route_table() are filled from the same list.
template <typename Add>
void add_routes(Add&& add) {
  auto pub = [&](const char* method, const char* path, Public fn) { add(method, path, fn); };
  auto priv = [&](const char* method, const char* path, Private fn) { add(method, path, fn); };
  auto agent = [&](const char* method, const char* path, AgentOnly fn) { add(method, path, fn); };
  auto daemon = [&](const char* method, const char* path, DaemonOnly fn) { add(method, path, fn); };
  pub("GET", "/healthz", get_healthz);
  pub("GET", "/bin/berth-linux-amd64", get_agent_binary);
  pub("GET", "/bin/coder-linux-amd64", get_agent_binary);
  pub("GET", "/api/v2", get_api_root);
  pub("GET", "/api/v2/buildinfo", get_buildinfo);

  // What Coder's clients ask first; literal paths before `{user}` and `{template}`.
  pub("GET", "/api/v2/users/authmethods", get_auth_methods);
  pub("GET", "/api/v2/appearance", get_appearance);
  priv("POST", "/api/v2/authcheck", check_authorization);
  priv("GET", "/api/v2/entitlements", get_entitlements);
  priv("GET", "/api/v2/experiments", get_experiments);
  priv("GET", "/api/v2/experiments/available", get_available_experiments);
  priv("GET", "/api/v2/regions", get_regions);
  priv("GET", "/api/v2/replicas", get_replicas);
  priv("GET", "/api/v2/templates/examples", list_template_examples);
  priv("GET", "/api/v2/organizations/{organization}/templates/examples", list_template_examples);
  priv("GET", "/api/v2/users/{user}/login-type", get_user_login_type);
  priv("GET", "/api/v2/users/{user}/autofill-parameters", get_user_autofill_parameters);
  priv("GET",
       "/api/v2/organizations/{organization}/templates/{templatename}/versions/"
       "{templateversionname}",
       get_organization_template_version_by_name);

  pub("GET", "/api/v2/users/first", get_first_user);
  pub("POST", "/api/v2/users/first", create_first_user);
  pub("POST", "/api/v2/users/login", login_with_password);
  priv("POST", "/api/v2/users/logout", logout);
  priv("GET", "/api/v2/audit", list_audit_logs);
  priv("GET", "/api/v2/users", list_users);
  priv("POST", "/api/v2/users", create_user);
  priv("GET", "/api/v2/users/{user}", get_user);
  priv("DELETE", "/api/v2/users/{user}", delete_user);
  priv("GET", "/api/v2/users/{user}/roles", get_user_roles);
  priv("PUT", "/api/v2/users/{user}/roles", update_user_roles);
  priv("PUT", "/api/v2/users/{user}/status/suspend", suspend_user);
  priv("PUT", "/api/v2/users/{user}/status/activate", activate_user);
  priv("GET", "/api/v2/users/{user}/quiet-hours", get_user_quiet_hours);
  priv("PUT", "/api/v2/users/{user}/quiet-hours", update_user_quiet_hours);
  priv("GET", "/api/v2/users/{user}/organizations", list_user_organizations);
  // Literal `tokens` routes come before `{keyid}`, which would otherwise capture them.
  priv("POST", "/api/v2/users/{user}/keys", create_session_key);
  priv("GET", "/api/v2/users/{user}/keys/tokens", list_tokens);
  priv("POST", "/api/v2/users/{user}/keys/tokens", create_token);
  priv("GET", "/api/v2/users/{user}/keys/tokens/tokenconfig", get_token_config);
  priv("GET", "/api/v2/users/{user}/keys/tokens/{keyname}", get_token_by_name);
  priv("GET", "/api/v2/users/{user}/keys/{keyid}", get_api_key);
  priv("DELETE", "/api/v2/users/{user}/keys/{keyid}", delete_api_key);

  priv("GET", "/api/v2/organizations", list_organizations);
  priv("GET", "/api/v2/organizations/{organization}", get_organization);
  priv("GET", "/api/v2/organizations/{organization}/members", list_organization_members);
  priv("GET", "/api/v2/organizations/{organization}/provisionerkeys", list_provisioner_keys);
  priv("POST", "/api/v2/organizations/{organization}/provisionerkeys", create_provisioner_key);
  priv("DELETE", "/api/v2/organizations/{organization}/provisionerkeys/{provisionerkey}",
       delete_provisioner_key);
  priv("GET", "/api/v2/organizations/{organization}/provisionerdaemons", list_provisioner_daemons);
  // Berth's protocol for external provisioner daemons (`berth provisionerd start`); Coder's
  // daemons use dRPC over a WebSocket instead. `acquire` routes before `{job}`.
  daemon("GET", "/api/v2/provisionerkeys/{provisionerkey}", get_provisioner_key);
  daemon("POST", "/api/v2/provisionerdaemons/jobs/acquire", acquire_provisioner_job);
  daemon("POST", "/api/v2/provisionerdaemons/jobs/acquire/cancel", cancel_provisioner_job_acquire);
  daemon("POST", "/api/v2/provisionerdaemons/jobs/{job}/logs", post_provisioner_job_logs);
  daemon("POST", "/api/v2/provisionerdaemons/jobs/{job}/heartbeat", heartbeat_provisioner_job);
  daemon("POST", "/api/v2/provisionerdaemons/jobs/{job}/complete", complete_provisioner_job);
  daemon("POST", "/api/v2/provisionerdaemons/jobs/{job}/fail", fail_provisioner_job);

  priv("POST", "/api/v2/files", create_file);
  priv("GET", "/api/v2/files/{fileID}", get_file);

  priv("POST", "/api/v2/organizations/{organization}/templateversions", create_template_version);
  priv("GET", "/api/v2/templateversions/{templateversion}", get_template_version);
  priv("PATCH", "/api/v2/templateversions/{templateversion}", update_template_version);
  priv("PATCH", "/api/v2/templateversions/{templateversion}/cancel", cancel_template_version);
  priv("GET", "/api/v2/templateversions/{templateversion}/logs", get_template_version_logs);
  priv("GET", "/api/v2/templateversions/{templateversion}/rich-parameters",
       get_template_version_rich_parameters);
  priv("GET", "/api/v2/templateversions/{templateversion}/resources",
       get_template_version_resources);
  priv("GET", "/api/v2/templateversions/{templateversion}/presets", get_template_version_presets);
  priv("GET", "/api/v2/templateversions/{templateversion}/variables",
       get_template_version_variables);
  priv("GET", "/api/v2/templateversions/{templateversion}/external-auth",
       get_template_version_external_auth);

  priv("POST", "/api/v2/organizations/{organization}/templates", create_template);
  priv("GET", "/api/v2/organizations/{organization}/templates", list_organization_templates);
  priv("GET", "/api/v2/organizations/{organization}/templates/{templatename}",
       get_organization_template_by_name);
  priv("GET", "/api/v2/templates", list_all_templates);
  priv("GET", "/api/v2/templates/{template}", get_template);
  priv("PATCH", "/api/v2/templates/{template}", update_template);
  priv("DELETE", "/api/v2/templates/{template}", delete_template);
  priv("GET", "/api/v2/templates/{template}/versions", list_template_versions);
  priv("PATCH", "/api/v2/templates/{template}/versions", update_active_template_version);
  priv("GET", "/api/v2/templates/{template}/versions/{templateversionname}",
       get_template_version_by_name);

  priv("POST", "/api/v2/users/{user}/workspaces", create_user_workspace);
  priv("POST", "/api/v2/organizations/{organization}/members/{user}/workspaces",
       create_organization_member_workspace);
  priv("GET", "/api/v2/users/{user}/workspace/{workspacename}", get_workspace_by_owner_and_name);
  priv("GET", "/api/v2/users/{user}/workspace/{workspacename}/builds/{buildnumber}",
       get_workspace_build_by_number);
  priv("GET", "/api/v2/workspaces", list_workspaces);
  priv("GET", "/api/v2/workspaces/{workspace}", get_workspace);
  priv("PATCH", "/api/v2/workspaces/{workspace}", update_workspace);
  priv("GET", "/api/v2/workspaces/{workspace}/builds", list_workspace_builds);
  priv("POST", "/api/v2/workspaces/{workspace}/builds", create_workspace_build);
  priv("PUT", "/api/v2/workspaces/{workspace}/autostart", update_workspace_autostart);
  priv("PUT", "/api/v2/workspaces/{workspace}/ttl", update_workspace_ttl);
  priv("PUT", "/api/v2/workspaces/{workspace}/autoupdates", update_workspace_automatic_updates);
  priv("PUT", "/api/v2/workspaces/{workspace}/dormant", update_workspace_dormancy);
  priv("PUT", "/api/v2/workspaces/{workspace}/extend", extend_workspace);
  priv("PUT", "/api/v2/workspaces/{workspace}/favorite", favorite_workspace);
  priv("DELETE", "/api/v2/workspaces/{workspace}/favorite", unfavorite_workspace);
  priv("GET", "/api/v2/workspaces/{workspace}/resolve-autostart", resolve_workspace_autostart);
  priv("POST", "/api/v2/workspaces/{workspace}/usage", post_workspace_usage);
  priv("GET", "/api/v2/workspaces/{workspace}/watch", watch_workspace);
  priv("GET", "/api/v2/workspaces/{workspace}/watch-ws", watch_workspace_ws);
  priv("GET", "/api/v2/workspaces/{workspace}/timings", get_workspace_timings);
  priv("GET", "/api/v2/workspacebuilds/{workspacebuild}", get_workspace_build);
  priv("PATCH", "/api/v2/workspacebuilds/{workspacebuild}/cancel", cancel_workspace_build);
  priv("GET", "/api/v2/workspacebuilds/{workspacebuild}/logs", get_workspace_build_logs);
  priv("GET", "/api/v2/workspacebuilds/{workspacebuild}/parameters",
       get_workspace_build_parameters);
  priv("GET", "/api/v2/workspacebuilds/{workspacebuild}/resources", get_workspace_build_resources);
  priv("GET", "/api/v2/workspacebuilds/{workspacebuild}/state", get_workspace_build_state);
  priv("PUT", "/api/v2/workspacebuilds/{workspacebuild}/state", update_workspace_build_state);
  priv("GET", "/api/v2/workspacebuilds/{workspacebuild}/timings", get_workspace_build_timings);

  priv("GET", "/api/v2/tasks", list_tasks);
  priv("POST", "/api/v2/tasks/{user}", create_task);
  priv("GET", "/api/v2/tasks/{user}/{task}", get_task);
  priv("DELETE", "/api/v2/tasks/{user}/{task}", delete_task);
  priv("PATCH", "/api/v2/tasks/{user}/{task}/input", update_task_input);
  priv("POST", "/api/v2/tasks/{user}/{task}/send", send_task_input);
  priv("GET", "/api/v2/tasks/{user}/{task}/logs", get_task_logs);
  priv("POST", "/api/v2/tasks/{user}/{task}/pause", pause_task);
  priv("POST", "/api/v2/tasks/{user}/{task}/resume", resume_task);
  // Where Coder's CLI and SDK called the tasks API while it was experimental (`coder exp
  // task …`, PauseTask); the same handlers.
  priv("GET", "/api/experimental/tasks", list_tasks);
  priv("POST", "/api/experimental/tasks/{user}", create_task);
  priv("GET", "/api/experimental/tasks/{user}/{task}", get_task);
  priv("DELETE", "/api/experimental/tasks/{user}/{task}", delete_task);
  priv("PATCH", "/api/experimental/tasks/{user}/{task}/input", update_task_input);
  priv("POST", "/api/experimental/tasks/{user}/{task}/send", send_task_input);
  priv("GET", "/api/experimental/tasks/{user}/{task}/logs", get_task_logs);
  priv("POST", "/api/experimental/tasks/{user}/{task}/pause", pause_task);
  priv("POST", "/api/experimental/tasks/{user}/{task}/resume", resume_task);

  // `me` (the agent's own routes) before `{workspaceagent}`, which would capture it.
  agent("GET", "/api/v2/workspaceagents/me/rpc", agent_rpc);
  agent("GET", "/api/v2/workspaceagents/me/manifest", get_agent_manifest);
  agent("PATCH", "/api/v2/workspaceagents/me/logs", patch_agent_logs);
  agent("POST", "/api/v2/workspaceagents/me/log-source", post_agent_log_source);
  agent("PATCH", "/api/v2/workspaceagents/me/app-status", patch_agent_app_status);
  agent("POST", "/api/v2/workspaceagents/me/tasks/{task}/log-snapshot",
        post_agent_task_log_snapshot);
  priv("GET", "/api/v2/workspaceagents/{workspaceagent}", get_workspace_agent);
  priv("GET", "/api/v2/workspaceagents/{workspaceagent}/logs", get_workspace_agent_logs);
  priv("GET", "/api/v2/workspaceagents/{workspaceagent}/watch-metadata",
       watch_workspace_agent_metadata);
  priv("GET", "/api/v2/workspaceagents/{workspaceagent}/watch-metadata-ws",
       watch_workspace_agent_metadata_ws);
  priv("GET", "/api/v2/workspaceagents/{workspaceagent}/pty", workspace_agent_pty);
  // Berth's own: a TCP stream to a port inside the workspace (`berth port-forward`).
  priv("GET", "/api/v2/workspaceagents/{workspaceagent}/stream", workspace_agent_stream);
}

// Requests the fallback (the dashboard) may answer when no route matches: page loads, not
// API calls, so that a client's typo under /api/ still gets Coder's JSON 404.
bool may_fall_back(const Request& r) {
  bool api = r.path == "/api" || r.path.starts_with("/api/");
  return !api && (r.method == "GET" || r.method == "HEAD");
}

// Dispatches to the route table; a request no route matches goes to `fallback` if it may.
Response dispatch(const http::Router& router, const http::Handler& fallback, Request& request) {
  if (!fallback || !may_fall_back(request)) return router.dispatch(request);
  try {
    return router.dispatch(request);
  } catch (const Error& e) {
    // Only the router's own miss: a route's handler may throw not_found for a missing row.
    if (e.code() != ErrorCode::not_found || e.message() != "Route not found.") throw;
  }
  return fallback(request);
}

}  // namespace

http::Handler make_api_handler(Deps& deps, http::Handler fallback) {
  auto router = std::make_shared<http::Router>();
  add_routes([&](const char* method, const char* path, auto fn) {
    router->add(method, path, route_handler(deps, fn, audit_spec(method, path)));
  });
  return [router, fallback = std::move(fallback), &deps,
          version = deps.build.version](Request& request) {
    Response response;
    try {
      response = is_app_path(request.path) ? proxy_app(deps, request)
                                           : dispatch(*router, fallback, request);
    } catch (const Error& e) {
      if (e.code() == ErrorCode::internal)
        spdlog::error("{} {}: {} ({})", request.method, request.path, e.message(), e.detail());
      response = http::error_response(e);
    }
    response.set_header("X-Coder-Build-Version", version);
    return response;
  };
}

std::vector<RouteInfo> route_table() {
  std::vector<RouteInfo> routes;
  add_routes([&](const char* method, const char* path, auto fn) {
    routes.push_back(RouteInfo{method, path, kind_of(fn)});
  });
  return routes;
}

}  // namespace berth::api
