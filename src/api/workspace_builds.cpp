#include <charconv>

#include "api/auth.hpp"
#include "api/handlers.hpp"
#include "api/job_log_stream.hpp"
#include "api/jobs_json.hpp"
#include "api/params.hpp"
#include "api/query.hpp"
#include "api/workspace_agents_json.hpp"
#include "api/workspaces_json.hpp"
#include "coderd/provisioner_jobs.hpp"
#include "coderd/templates.hpp"
#include "coderd/users.hpp"
#include "coderd/workspaces.hpp"
#include "common/error.hpp"
#include "http/error_response.hpp"

namespace berth::api {

namespace {

std::int64_t int64_query(const Request& request, const char* name) {
  auto values = request.query_values(name);
  if (values.empty() || values[0].empty()) return 0;
  std::int64_t out = 0;
  const auto& v = values[0];
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc{} || ptr != v.data() + v.size())
    throw Error{ErrorCode::invalid,
                "Query parameters have invalid values.",
                {},
                {{name, "Query param \"" + std::string(name) + "\" must be a valid integer"}}};
  return out;
}

std::string base64_decode(const std::string& in) {
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int value = 0, bits = -8;
  for (char c : in) {
    if (c == '=') break;
    auto pos = kAlphabet.find(c);
    if (pos == std::string::npos)
      throw Error{ErrorCode::invalid, "Request body must be valid JSON.",
                  "\"state\" must be base64"};
    value = (value << 6) + int(pos);
    bits += 6;
    if (bits >= 0) {
      out += char((value >> bits) & 0xff);
      bits -= 8;
    }
  }
  return out;
}

coderd::BuildParams read_build_request(json::ObjectReader& body) {
  coderd::BuildParams p;
  auto transition = body.string("transition").value_or("");
  if (auto parsed = sdk::parse<sdk::WorkspaceTransition>(transition))
    p.transition = *parsed;
  else
    body.invalid("transition",
                 "Validation failed for tag \"oneof\" with value: \"" + transition + "\"");
  p.template_version_id = body.uuid("template_version_id");
  p.orphan = body.boolean("orphan").value_or(false);
  if (const auto* state = body.array_field("state")) {
    std::string bytes;
    for (const auto& b : *state) {
      if (!b.is_int64() || b.get_int64() < 0 || b.get_int64() > 255)
        throw Error{ErrorCode::invalid, "Request body must be valid JSON.",
                    "\"state\" must be bytes"};
      bytes += char(b.get_int64());
    }
    p.state = bytes;
  } else if (auto text = body.string("state")) {
    p.state = base64_decode(*text);
  }
  auto log_level = body.string("log_level").value_or("");
  if (!log_level.empty() && log_level != "debug")
    body.invalid("log_level",
                 "Validation failed for tag \"oneof\" with value: \"" + log_level + "\"");
  auto reason = body.string("reason").value_or("");
  static const std::vector<std::string> kReasons = {"dashboard",
                                                    "cli",
                                                    "ssh_connection",
                                                    "vscode_connection",
                                                    "jetbrains_connection",
                                                    "task_manual_pause",
                                                    "task_resume"};
  if (!reason.empty() && std::find(kReasons.begin(), kReasons.end(), reason) == kReasons.end())
    body.invalid("reason", "Validation failed for tag \"oneof\" with value: \"" + reason + "\"");
  if (!reason.empty() && p.transition != sdk::WorkspaceTransition::delete_) p.reason = reason;
  p.preset_id = body.uuid("template_version_preset_id");
  if (const auto* items = body.array_field("rich_parameter_values"))
    for (const auto& item : *items) {
      if (!item.is_object() || !item.as_object().contains("name"))
        throw Error{ErrorCode::invalid, "Request body must be valid JSON.",
                    "rich_parameter_values entries must be {\"name\", \"value\"} objects"};
      auto* value = item.as_object().if_contains("value");
      p.parameters.push_back({std::string(item.as_object().at("name").as_string()),
                              value && value->is_string() ? std::string(value->get_string()) : ""});
    }
  body.finish();
  return p;
}

json::value timings_json() {
  return json::object{{"provisioner_timings", json::array{}},
                      {"agent_script_timings", json::array{}},
                      {"agent_connection_timings", json::array{}}};
}

json::value build_timings_json(Deps& deps, const store::WorkspaceBuildRow& build) {
  auto out = timings_json();
  auto job = deps.store.get_provisioner_job_by_id(build.job_id);
  if (job && job->started_at && job->completed_at && !job->error)
    out.as_object()["provisioner_timings"] =
        json::array{json::object{{"job_id", job->id.to_string()},
                                 {"stage", "apply"},
                                 {"source", "berth"},
                                 {"action", sdk::to_string(build.transition)},
                                 {"resource", "workspace"},
                                 {"started_at", format_rfc3339(*job->started_at)},
                                 {"ended_at", format_rfc3339(*job->completed_at)}}};
  json::array connections;
  std::vector<store::WorkspaceAgentRow> agents;
  for (const auto& r : deps.store.list_workspace_resources_by_job_id(build.job_id))
    for (const auto& a : deps.store.list_workspace_agents_by_resource_id(r.id)) {
      agents.push_back(a);
      if (a.first_connected_at)
        connections.push_back(json::object{{"workspace_agent_id", a.id.to_string()},
                                           {"workspace_agent_name", a.name},
                                           {"started_at", format_rfc3339(a.created_at)},
                                           {"ended_at", format_rfc3339(*a.first_connected_at)},
                                           {"stage", "connect"}});
    }
  out.as_object()["agent_connection_timings"] = std::move(connections);
  out.as_object()["agent_script_timings"] = agent_script_timings_json(deps, agents);
  return out;
}

}  // namespace

Response create_workspace_build(Deps& deps, Request& request, const Authenticated& auth) {
  auto workspace = resolve_workspace_param(deps, request, auth);
  json::ObjectReader body(json::parse_body(request.body));
  auto params = read_build_request(body);
  auto build = deps.workspaces.build(&auth.subject, auth.user.id, workspace, params);
  return http::json_response(201, build_json(deps, build, workspace));
}

Response list_workspace_builds(Deps& deps, Request& request, const Authenticated& auth) {
  auto workspace = resolve_workspace_param(deps, request, auth);
  auto page = parse_pagination(request);
  std::optional<TimePoint> since;
  if (auto v = request.query_values("since"); !v.empty() && !v[0].empty()) {
    since = parse_rfc3339(v[0]);
    if (!since) throw Error{ErrorCode::invalid, "bad `since` format, must be RFC3339", v[0]};
  }
  std::optional<std::int64_t> after_number;
  if (page.after_id) {
    auto after = deps.store.get_workspace_build_by_id(*page.after_id);
    if (!after)
      throw Error{ErrorCode::invalid, "Record at \"after_id\" (\"" + page.after_id->to_string() +
                                          "\") does not exist."};
    after_number = after->build_number;
  }
  auto builds = deps.store.list_workspace_builds_page(workspace.id, since, after_number, page.limit,
                                                      page.offset);
  json::array out;
  auto owner = deps.store.get_user_by_id(workspace.owner_id);
  for (const auto& view : coderd::load_build_views(deps.store, std::move(builds)))
    out.push_back(build_json(deps, view, workspace, owner));
  return http::json_response(200, out);
}

Response get_workspace_build(Deps& deps, Request& request, const Authenticated& auth) {
  auto [build, workspace] = resolve_build_param(deps, request, auth);
  return http::json_response(200, build_json(deps, build, workspace));
}

Response get_workspace_build_by_number(Deps& deps, Request& request, const Authenticated& auth) {
  auto owner = resolve_user_param(deps, request, auth);
  auto name = request.param("workspacename");
  auto workspace = deps.store.get_workspace_by_owner_and_name(owner.id, name, false);
  if (!workspace ||
      !coderd::authorize(auth.subject, coderd::Action::read, coderd::workspace_object(*workspace)))
    throw Error{ErrorCode::not_found, kResourceNotFoundMessage};
  const auto& raw = request.param("buildnumber");
  std::int32_t number = 0;
  auto [ptr, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), number);
  if (ec != std::errc{} || ptr != raw.data() + raw.size())
    throw Error{ErrorCode::invalid, "Failed to parse build number as integer.", raw};
  auto build = deps.store.get_workspace_build_by_number(workspace->id, number);
  if (!build)
    throw Error{ErrorCode::not_found,
                "Workspace \"" + name + "\" Build " + raw + " does not exist."};
  return http::json_response(200, build_json(deps, *build, *workspace));
}

Response cancel_workspace_build(Deps& deps, Request& request, const Authenticated& auth) {
  auto [build, workspace] = resolve_build_param(deps, request, auth);
  std::optional<std::string> expect;
  if (auto v = request.query_values("expect_status"); !v.empty() && !v[0].empty()) expect = v[0];
  deps.workspaces.cancel_build(auth.subject, build, expect);
  return http::json_response(200, json::object{{"message", "Job has been marked as canceled..."}});
}

Response get_workspace_build_logs(Deps& deps, Request& request, const Authenticated& auth) {
  auto [build, workspace] = resolve_build_param(deps, request, auth);
  auto after = int64_query(request, "after");
  if (!request.query_values("follow").empty()) {
    Response r;
    r.websocket = std::make_shared<JobLogStream>(deps.store, deps.pubsub, build.job_id, after);
    return r;
  }
  json::array out;
  for (const auto& log : deps.store.list_provisioner_job_logs_after(build.job_id, after, 0))
    out.push_back(job_log_json(log));
  return http::json_response(200, out);
}

Response get_workspace_build_parameters(Deps& deps, Request& request, const Authenticated& auth) {
  auto [build, workspace] = resolve_build_param(deps, request, auth);
  json::array out;
  for (const auto& p : deps.store.list_build_parameters(build.id))
    out.push_back(json::object{{"name", p.name}, {"value", p.value}});
  return http::json_response(200, out);
}

Response get_workspace_build_resources(Deps& deps, Request& request, const Authenticated& auth) {
  auto [build, workspace] = resolve_build_param(deps, request, auth);
  json::array out;
  auto now = deps.clock.now();
  for (const auto& view : coderd::load_resource_views(
           deps.store, deps.store.list_workspace_resources_by_job_id(build.job_id)))
    out.push_back(resource_json(view, now));
  return http::json_response(200, out);
}

Response get_workspace_build_state(Deps& deps, Request& request, const Authenticated& auth) {
  auto [build, workspace] = resolve_build_param(deps, request, auth);
  if (!coderd::authorize(auth.subject, coderd::Action::update,
                         coderd::template_object(workspace.organization_id)))
    throw Error{ErrorCode::not_found, kResourceNotFoundMessage};
  Response r;
  r.set_header("Content-Type", "application/json");
  r.body = build.provisioner_state;
  return r;
}

Response update_workspace_build_state(Deps& deps, Request& request, const Authenticated& auth) {
  auto [build, workspace] = resolve_build_param(deps, request, auth);
  if (!coderd::authorize(auth.subject, coderd::Action::update,
                         coderd::template_object(workspace.organization_id)))
    throw Error{ErrorCode::not_found, kResourceNotFoundMessage};
  json::ObjectReader body(json::parse_body(request.body));
  auto state = body.required_string("state");
  body.finish();
  deps.store.update_workspace_build_state(build.id, base64_decode(state), deps.clock.now());
  return http::no_content();
}

Response get_workspace_build_timings(Deps& deps, Request& request, const Authenticated& auth) {
  auto [build, workspace] = resolve_build_param(deps, request, auth);
  return http::json_response(200, build_timings_json(deps, build));
}

Response get_workspace_timings(Deps& deps, Request& request, const Authenticated& auth) {
  auto workspace = resolve_workspace_param(deps, request, auth);
  auto latest = deps.store.get_latest_workspace_build(workspace.id);
  return http::json_response(200, latest ? build_timings_json(deps, *latest) : timings_json());
}

}  // namespace berth::api
