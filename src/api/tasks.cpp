#include <spdlog/spdlog.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include "api/auth.hpp"
#include "api/handlers.hpp"
#include "api/params.hpp"
#include "api/query.hpp"
#include "api/replica_relay.hpp"
#include "api/workspaces_json.hpp"
#include "coderd/tasks.hpp"
#include "coderd/users.hpp"
#include "coderd/workspaces.hpp"
#include "common/error.hpp"
#include "http/deferred.hpp"
#include "http/error_response.hpp"

namespace berth::api {

namespace {

json::value task_json(Deps& deps, const coderd::TaskDetails& d) {
  const auto& v = d.view;
  const auto& t = v.task;
  const auto& owner = d.owner;
  const auto& tmpl = d.template_;
  json::object out{
      {"id", t.id.to_string()},
      {"organization_id", t.organization_id.to_string()},
      {"owner_id", t.owner_id.to_string()},
      {"owner_name", owner ? owner->username : ""},
      {"name", t.name},
      {"display_name", t.display_name},
      {"template_version_id", t.template_version_id.to_string()},
      {"template_id", tmpl ? json::value(tmpl->id.to_string()) : json::value("")},
      {"template_name", tmpl ? tmpl->name : ""},
      {"template_display_name", tmpl ? tmpl->display_name : ""},
      {"template_icon", tmpl ? tmpl->icon : ""},
      {"initial_prompt", t.prompt},
      {"created_at", format_rfc3339(t.created_at)},
      {"updated_at", format_rfc3339(v.workspace ? v.workspace->updated_at : t.created_at)},
      {"status", v.status},
      {"workspace_id",
       t.workspace_id ? json::value(t.workspace_id->to_string()) : json::value(nullptr)},
      {"workspace_name", v.workspace ? v.workspace->name : ""},
      {"workspace_agent_id", v.agent ? json::value(v.agent->id.to_string()) : json::value(nullptr)},
      {"workspace_app_id", nullptr},
      {"workspace_agent_lifecycle",
       v.agent ? json::value(sdk::to_string(v.agent->lifecycle_state)) : json::value(nullptr)},
      {"workspace_agent_health", nullptr},
      {"current_state", d.current_state}};
  if (owner && !owner->avatar_url.empty()) out["owner_avatar_url"] = owner->avatar_url;
  if (v.build) {
    out["workspace_build_number"] = v.build->build_number;
    if (v.job_status)
      out["workspace_status"] =
          sdk::to_string(coderd::build_status(v.build->transition, *v.job_status));
  }
  if (v.agent) {
    // An agent's health follows from its row alone (not its stats, app health or log sources).
    auto agent = agent_json(coderd::AgentView{*v.agent, std::nullopt, {}, {}}, deps.clock.now());
    out["workspace_agent_health"] = agent.as_object().at("health");
    if (v.app && v.app->app_id) out["workspace_app_id"] = *v.app->app_id;
  }
  return out;
}

json::value task_json(Deps& deps, const coderd::TaskView& v) {
  return task_json(deps, deps.tasks.details(v));
}

// `{task}`: an id (of any owner) or the name of one of `{user}`'s tasks, readable by the caller.
store::TaskRow resolve_task(Deps& deps, const Request& request, const Authenticated& auth) {
  const auto& raw = request.param("task");
  if (raw.empty()) throw Error{ErrorCode::invalid, "\"task\" must be provided."};
  std::optional<store::TaskRow> task;
  if (auto id = Uuid::parse(raw)) task = deps.store.get_task_by_id(*id);
  if (!task) {
    auto owner = resolve_user_param(deps, request, auth);
    task = deps.store.get_task_by_owner_and_name(owner.id, raw);
  }
  if (!task) throw Error{ErrorCode::not_found, kResourceNotFoundMessage};
  auto workspace =
      task->workspace_id ? deps.store.get_workspace_by_id(*task->workspace_id) : std::nullopt;
  bool readable = workspace ? coderd::authorize(auth.subject, coderd::Action::read,
                                                coderd::workspace_object(*workspace))
                            : task->owner_id == auth.user.id;
  if (!readable) throw Error{ErrorCode::not_found, kResourceNotFoundMessage};
  return *task;
}

// Talking to a task's app reaches into its workspace: Coder asks for ApplicationConnect there,
// which Berth grants as `update` on the workspace (its owner and owners, not template admins
// or auditors, who may only read it). 404 otherwise, as Coder answers.
void require_app_connect(Deps& deps, const store::TaskRow& task, const Authenticated& auth) {
  auto workspace =
      task.workspace_id ? deps.store.get_workspace_by_id(*task.workspace_id) : std::nullopt;
  if (!workspace || !coderd::authorize(auth.subject, coderd::Action::update,
                                       coderd::workspace_object(*workspace)))
    throw Error{ErrorCode::not_found, kResourceNotFoundMessage};
}

// The checks send and live logs share (Coder's order and messages).
void require_active(const coderd::TaskView& v) {
  const auto& s = v.status;
  if (s == "pending" || s == "initializing")
    throw Error{
        ErrorCode::conflict, "Task is " + s + ".",
        "The task is resuming. Wait for the task to become active before sending messages."};
  if (s == "paused")
    throw Error{ErrorCode::conflict, "Task is paused.", "Resume the task to send messages."};
  if (s != "active")
    throw Error{ErrorCode::invalid, "Task must be active.",
                "Task status is \"" + s + "\", it must be \"active\" to interact with the task."};
}

// The task app's URL (its coder_app url), from the agent's definition.
std::string task_app_url(Deps& deps, const coderd::TaskView& v) {
  auto app = deps.store.get_latest_task_workspace_app(v.task.id);
  if (!app || !app->app_id || !v.agent)
    throw Error{ErrorCode::invalid, "Task does not have a workspace app."};
  auto config = json::parse(v.agent->config);
  for (const auto& a : config.as_object().at("apps").as_array())
    if (a.as_object().at("id").as_string() == *app->app_id) {
      std::string url(a.as_object().at("url").as_string());
      if (url.empty()) throw Error{ErrorCode::internal, "Task app URL is not configured."};
      if (url.rfind("http://", 0) != 0)
        throw Error{ErrorCode::invalid, "Only http scheme is supported for direct agent-dial."};
      while (!url.empty() && url.back() == '/') url.pop_back();
      return url;
    }
  throw Error{ErrorCode::invalid, "Task does not have a workspace app."};
}

// The task app could not be reached or answered badly: Coder says 502 Bad Gateway, which no
// ErrorCode stands for, so send and logs turn this into their response themselves.
struct BadGateway {
  std::string message;
  std::string detail;
};

[[noreturn]] void bad_gateway(const std::string& message, const std::string& detail = {}) {
  throw BadGateway{message, detail};
}

Response bad_gateway_response(const BadGateway& e) {
  json::object body{{"message", e.message}};
  if (!e.detail.empty()) body["detail"] = e.detail;
  return http::json_response(502, body);
}

using Deferred = std::shared_ptr<http::DeferredResponse>;

// How long a client waits for a response that needs the task app. Each app request has its
// own deadline (AppHttpClient's 10 s) and send makes two in turn: this only backs them up.
constexpr auto kAppResponseDeadline = std::chrono::seconds(30);

// A response that is made once the task app has answered; the handler's thread moves on.
Deferred make_deferred() {
  return std::make_shared<http::DeferredResponse>(
      kAppResponseDeadline, bad_gateway_response(BadGateway{"Failed to reach task app endpoint.",
                                                            "the app did not answer in time"}));
}

Response deferred_response(Deferred deferred) {
  Response r;
  r.deferred = std::move(deferred);
  return r;
}

// Completes `deferred` with what `make` returns (nothing: another step is under way). Errors
// become what the error middleware would have written, a BadGateway Coder's 502. Never throws:
// it runs on the agent connection's thread.
void settle(const Deferred& deferred, const std::function<std::optional<Response>()>& make) {
  std::optional<Response> response;
  try {
    response = make();
  } catch (const BadGateway& e) {
    response = bad_gateway_response(e);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::internal)
      spdlog::error("task app response: {} ({})", e.message(), e.detail());
    response = http::error_response(e);
  } catch (const std::exception& e) {
    spdlog::error("task app response: {}", e.what());
    response = http::error_response(
        Error{ErrorCode::internal, "An internal server error occurred.", e.what()});
  }
  if (response) deferred->complete(std::move(*response));
}

// What to make of the task app's answer: the response, or nothing when another request to the
// app follows (which settles the response in turn).
using AppStep = std::function<std::optional<Response>(const coderd::AppHttpResponse&)>;

// One request to the task app through the agent, without waiting for it: `then` settles
// `deferred` from the answer. An app that cannot be reached is a 502 whose detail says why
// (not connected, no answer in time, ...), for whoever debugs it.
void call_app(Deps& deps, const Uuid& agent_id, const Deferred& deferred, const std::string& method,
              const std::string& url, const std::string& body, AppStep then) {
  auto call = deps.app_http.start(agent_id, method, url, body,
                                  [deferred, then = std::move(then)](coderd::AppHttpResult r) {
                                    settle(deferred, [&]() -> std::optional<Response> {
                                      if (!r.response)
                                        bad_gateway("Failed to reach task app endpoint.", r.error);
                                      return then(*r.response);
                                    });
                                  });
  deferred->on_abandoned([call] { call->cancel(); });
}

// agentapi's messages as TaskLogEntry values.
json::array log_entries(const json::value& messages, bool snapshot) {
  json::array out;
  auto* list = messages.is_object() ? messages.as_object().if_contains("messages") : nullptr;
  if (!list || !list->is_array()) {
    if (snapshot) throw Error{ErrorCode::internal, "Invalid snapshot data."};
    bad_gateway("Invalid task app response.");
  }
  for (const auto& m : list->get_array()) {
    const auto& o = m.as_object();
    auto role = o.if_contains("role") && o.at("role").is_string()
                    ? std::string(o.at("role").as_string())
                    : "";
    if (role != "user" && role != "agent") {
      if (snapshot) throw Error{ErrorCode::internal, "Invalid snapshot data."};
      bad_gateway("Invalid task app response.");
    }
    out.push_back(
        json::object{{"id", o.if_contains("id") ? o.at("id") : json::value(0)},
                     {"content", o.if_contains("content") ? o.at("content") : json::value("")},
                     {"type", role == "user" ? "input" : "output"},
                     {"time", o.if_contains("time") ? o.at("time") : json::value(nullptr)}});
  }
  return out;
}

json::value parse_app_json(const coderd::AppHttpResponse& r, const char* failure) {
  if (r.status < 200 || r.status >= 300) bad_gateway(failure, "status " + std::to_string(r.status));
  try {
    return json::parse(r.body);
  } catch (const Error&) {
    bad_gateway("Invalid task app response.");
  }
}

// Keeps the conversation the task app answered with as the task's snapshot; what cannot be
// read or kept is logged and left.
void save_conversation(Deps& deps, const store::WorkspaceAgentRow& agent, const Uuid& workspace_id,
                       const Uuid& task_id, const coderd::AppHttpResult& answer) {
  // Coder's cap on a posted snapshot; the oldest messages give way to the newest.
  constexpr std::size_t kMaxSnapshotBytes = 64 * 1024;
  try {
    if (!answer.response) bad_gateway("Failed to reach task app endpoint.", answer.error);
    auto messages = parse_app_json(*answer.response, "Failed to get messages from task app.");
    log_entries(messages, false);  // the shape a snapshot must have
    auto& list = messages.as_object().at("messages").as_array();
    auto envelope = [&] {
      return json::serialize(json::object{{"format", "agentapi"}, {"data", messages}});
    };
    auto text = envelope();
    while (text.size() > kMaxSnapshotBytes && !list.empty()) {
      list.erase(list.begin());
      text = envelope();
    }
    deps.tasks.save_snapshot(agent, workspace_id, task_id, text);
  } catch (const BadGateway& e) {
    spdlog::warn("task {}: conversation not saved before pause: {} {}", task_id.to_string(),
                 e.message, e.detail);
  } catch (const Error& e) {
    spdlog::warn("task {}: conversation not saved before pause: {} {}", task_id.to_string(),
                 e.message(), e.detail());
  }
}

// Before a pause stops the workspace, the conversation is read from the task's app and kept
// as the task's snapshot, so that a paused task shows it even when its template posts none
// (Coder relies on a shutdown script for that). Best effort: an app that cannot be read
// leaves whatever snapshot there was; then `then` settles `deferred` either way.
void capture_conversation(Deps& deps, const store::TaskRow& task, const Deferred& deferred,
                          std::function<std::optional<Response>()> then) {
  auto proceed = [deferred, then = std::move(then)] { settle(deferred, then); };
  auto view = deps.tasks.view(task);
  if (view.status != "active" || !view.agent || !task.workspace_id) return proceed();
  auto agent = *view.agent;
  auto workspace_id = *task.workspace_id;
  auto task_id = task.id;
  try {
    auto url = task_app_url(deps, view);
    auto call = deps.app_http.start(
        agent.id, "GET", url + "/messages", {},
        [&deps, agent, workspace_id, task_id, proceed](coderd::AppHttpResult answer) {
          save_conversation(deps, agent, workspace_id, task_id, answer);
          proceed();
        });
    deferred->on_abandoned([call] { call->cancel(); });
  } catch (const Error& e) {
    spdlog::warn("task {}: conversation not saved before pause: {} {}", task_id.to_string(),
                 e.message(), e.detail());
    proceed();
  }
}

Response accepted(const json::value& body) {
  return http::json_response(202, body);
}

}  // namespace

Response list_tasks(Deps& deps, Request& request, const Authenticated& auth) {
  store::ListTasksParams params;
  auto q = request.query_values("q");
  std::string query = q.empty() ? "" : q.front();
  for (auto& c : query) c = char(std::tolower(static_cast<unsigned char>(c)));
  auto invalid = [](std::string field, std::string detail) {
    throw Error{ErrorCode::invalid,
                "Invalid task search query.",
                {},
                {{std::move(field), std::move(detail)}}};
  };
  for (const auto& term : parse_search_terms(query, "Invalid task search query.")) {
    // Bare words name the owner.
    auto key = term.has_key ? term.key : std::string("owner");
    const auto& value = term.value;
    if (key == "owner") {
      std::optional<store::UserRow> user;
      if (value == "me")
        user = auth.user;
      else if (auto id = Uuid::parse(value))
        user = deps.store.get_user_by_id(*id);
      else
        user = deps.store.get_user_by_username(value);
      if (!user)
        invalid("owner", "user \"" + value +
                             "\" either does not exist, or you are unauthorized to view them");
      params.owner_id = user->id;
    } else if (key == "organization") {
      auto org = Uuid::parse(value) ? deps.store.get_organization_by_id(*Uuid::parse(value))
                                    : deps.store.get_organization_by_name(value);
      if (!org)
        invalid("organization", "organization \"" + value +
                                    "\" either does not exist, or you are unauthorized to view it");
      params.organization_id = org->id;
    } else if (key == "status") {
      static const std::vector<std::string> kTaskStatuses = {"pending", "initializing", "active",
                                                             "paused",  "error",        "unknown"};
      if (std::find(kTaskStatuses.begin(), kTaskStatuses.end(), value) == kTaskStatuses.end())
        invalid("status", "Query param \"status\" has invalid value: \"" + value +
                              "\" is not a valid value (pending, initializing, active, paused, "
                              "error, unknown)");
      params.status = value;
    } else {
      invalid(key, "\"" + key + "\" is not a valid query param");
    }
  }
  // Reading a task is reading its workspace: that permission becomes part of the query.
  auto scope =
      coderd::authorized_scope(auth.subject, coderd::Action::read, coderd::Resource::workspace);
  params.readable_all = scope.everything;
  if (scope.owned) params.readable_owner_id = auth.user.id;
  params.readable_organization_ids = scope.organizations;
  json::array out;
  for (const auto& task : deps.tasks.list(params)) out.push_back(task_json(deps, task));
  auto count = std::int64_t(out.size());
  return http::json_response(200, json::object{{"tasks", std::move(out)}, {"count", count}});
}

Response create_task(Deps& deps, Request& request, const Authenticated& auth) {
  auto owner = resolve_user_param(deps, request, auth);
  json::ObjectReader body(json::parse_body(request.body));
  coderd::CreateTaskParams p;
  auto version = body.uuid("template_version_id");
  if (!version)
    body.invalid("template_version_id", "Validation failed for tag \"required\" with value: \"\"");
  p.preset_id = body.uuid("template_version_preset_id");
  p.input = body.string("input").value_or("");
  p.name = body.string("name").value_or("");
  p.display_name = body.string("display_name").value_or("");
  body.finish();
  p.template_version_id = *version;
  auto task = deps.tasks.create(auth.subject, owner, p);
  return http::json_response(201, task_json(deps, deps.tasks.view(task)));
}

Response get_task(Deps& deps, Request& request, const Authenticated& auth) {
  return http::json_response(200,
                             task_json(deps, deps.tasks.view(resolve_task(deps, request, auth))));
}

Response delete_task(Deps& deps, Request& request, const Authenticated& auth) {
  deps.tasks.remove(auth.subject, resolve_task(deps, request, auth));
  Response r;
  r.status = 202;
  return r;
}

Response update_task_input(Deps& deps, Request& request, const Authenticated& auth) {
  auto task = resolve_task(deps, request, auth);
  json::ObjectReader body(json::parse_body(request.body));
  auto input = body.string("input").value_or("");
  body.finish();
  deps.tasks.update_input(auth.subject, task, input);
  return http::no_content();
}

Response pause_task(Deps& deps, Request& request, const Authenticated& auth) {
  auto task = resolve_task(deps, request, auth);
  // The conversation is read through the task's agent: where another replica holds it, that
  // replica pauses the task.
  auto view = deps.tasks.view(task);
  if (view.status == "active" && view.agent)
    if (auto relay = relay_to_agent_replica(deps, request, view.agent->id))
      return std::move(*relay);
  auto deferred = make_deferred();
  capture_conversation(deps, task, deferred, [&deps, task, auth]() -> std::optional<Response> {
    auto build = deps.tasks.pause(auth.subject, task);
    auto workspace = deps.store.get_workspace_by_id(build.workspace_id);
    // `workspace_build_id` too: what Coder's SDK decoded while the endpoint was experimental.
    return accepted(json::object{{"workspace_build", build_json(deps, build, *workspace)},
                                 {"workspace_build_id", build.id.to_string()}});
  });
  return deferred_response(std::move(deferred));
}

Response resume_task(Deps& deps, Request& request, const Authenticated& auth) {
  auto task = resolve_task(deps, request, auth);
  auto status = deps.tasks.view(task).status;
  if (status != "paused")
    throw Error{ErrorCode::conflict, "Task cannot be resumed.",
                "Task status is \"" + status + "\"; only a paused task can be resumed."};
  auto build = deps.tasks.resume(auth.subject, task);
  auto workspace = deps.store.get_workspace_by_id(build.workspace_id);
  return accepted(json::object{{"workspace_build", build_json(deps, build, *workspace)},
                               {"workspace_build_id", build.id.to_string()}});
}

Response send_task_input(Deps& deps, Request& request, const Authenticated& auth) {
  auto task = resolve_task(deps, request, auth);
  // Before the state checks (Coder checks after them): whoever may not send learns nothing.
  require_app_connect(deps, task, auth);
  json::ObjectReader body(json::parse_body(request.body));
  auto input = body.string("input").value_or("");
  body.finish();
  if (input.empty()) throw Error{ErrorCode::invalid, "Task input is required."};
  auto view = deps.tasks.view(task);
  require_active(view);
  auto url = task_app_url(deps, view);
  if (auto relay = relay_to_agent_replica(deps, request, view.agent->id)) return std::move(*relay);
  // Asks whether the app is ready, then posts the message: two requests through the agent,
  // and no thread waits for either.
  auto deferred = make_deferred();
  auto agent_id = view.agent->id;
  auto message = json::serialize(json::object{{"content", input}, {"type", "user"}});
  call_app(deps, agent_id, deferred, "GET", url + "/status", {},
           [&deps, deferred, agent_id, url,
            message](const coderd::AppHttpResponse& r) -> std::optional<Response> {
             auto status = parse_app_json(r, "Failed to get status from task app.");
             auto* s = status.is_object() ? status.as_object().if_contains("status") : nullptr;
             std::string state = s && s->is_string() ? std::string(s->get_string()) : "";
             if (state != "stable")
               bad_gateway("Task app is not ready to accept input.", "Status: " + state);
             call_app(deps, agent_id, deferred, "POST", url + "/message", message,
                      [](const coderd::AppHttpResponse& sent) -> std::optional<Response> {
                        if (sent.status < 200 || sent.status >= 300)
                          bad_gateway("Task app rejected the message.", sent.body.substr(0, 1024));
                        return http::no_content();
                      });
             return std::nullopt;
           });
  return deferred_response(std::move(deferred));
}

Response get_task_logs(Deps& deps, Request& request, const Authenticated& auth) {
  auto task = resolve_task(deps, request, auth);
  auto view = deps.tasks.view(task);
  const auto& s = view.status;
  if (s == "paused" || s == "pending" || s == "initializing") {
    auto snapshot = deps.store.get_task_snapshot(task.id);
    if (!snapshot)
      return http::json_response(200, json::object{{"logs", json::array{}}, {"snapshot", true}});
    auto envelope = json::parse(snapshot->log_snapshot);
    auto format = envelope.as_object().at("format").as_string();
    if (format != "agentapi")
      throw Error{ErrorCode::internal, "Unsupported task snapshot format.",
                  "Expected format \"agentapi\", got \"" + std::string(format) + "\"."};
    return http::json_response(
        200, json::object{{"logs", log_entries(envelope.as_object().at("data"), true)},
                          {"snapshot", true},
                          {"snapshot_at", format_rfc3339(snapshot->created_at)}});
  }
  if (s != "active")
    throw Error{ErrorCode::conflict, "Cannot fetch logs for task in current state.",
                "Task status is \"" + s + "\"."};
  require_app_connect(deps, task, auth);
  auto url = task_app_url(deps, view);
  if (auto relay = relay_to_agent_replica(deps, request, view.agent->id)) return std::move(*relay);
  auto deferred = make_deferred();
  call_app(deps, view.agent->id, deferred, "GET", url + "/messages", {},
           [](const coderd::AppHttpResponse& r) -> std::optional<Response> {
             auto messages = parse_app_json(r, "Failed to get messages from task app.");
             return http::json_response(
                 200, json::object{{"logs", log_entries(messages, false)}, {"snapshot", false}});
           });
  return deferred_response(std::move(deferred));
}

}  // namespace berth::api

namespace berth::api {

Response patch_agent_app_status(Deps& deps, Request& request, const coderd::AgentIdentity& agent) {
  json::ObjectReader body(json::parse_body(request.body));
  auto slug = body.string("app_slug").value_or("");
  auto state = body.string("state").value_or("");
  auto message = body.string("message").value_or("");
  auto uri = body.string("uri").value_or("");
  body.finish();
  deps.tasks.record_app_status(agent.agent, agent.workspace_id, slug, state, message, uri);
  return http::json_response(200, nullptr);
}

Response post_agent_task_log_snapshot(Deps& deps, Request& request,
                                      const coderd::AgentIdentity& agent) {
  // agentapi's shutdown script uploads at most 64 KiB (Coder's cap on this body).
  constexpr std::size_t kMaxSnapshotBytes = 64 * 1024;
  auto task_id = Uuid::parse(request.param("task"));
  if (!task_id) throw Error{ErrorCode::invalid, "Invalid task ID format."};
  auto formats = request.query_values("format");
  if (formats.empty() || formats[0].empty())
    throw Error{ErrorCode::invalid,
                "Invalid query parameters.",
                {},
                {{"format", "Query param \"format\" is required and cannot be empty"}}};
  if (formats[0] != "agentapi")
    throw Error{ErrorCode::invalid, "Invalid format parameter.",
                "Only \"agentapi\" format is currently supported, got \"" + formats[0] + "\"."};
  auto task = deps.store.get_task_by_id(*task_id);
  if (!task || task->workspace_id != agent.workspace_id)
    throw Error{ErrorCode::not_found, kResourceNotFoundMessage};
  if (request.body.size() > kMaxSnapshotBytes)
    throw Error{ErrorCode::invalid, "Failed to decode request payload.",
                "the snapshot is larger than 64 KiB"};
  json::value payload;
  try {
    payload = json::parse_body(request.body);
  } catch (const Error& e) {
    throw Error{ErrorCode::invalid, "Failed to decode request payload.", e.detail()};
  }
  auto* messages = payload.is_object() ? payload.as_object().if_contains("messages") : nullptr;
  if (!messages || !messages->is_array())
    throw Error{ErrorCode::invalid, "Invalid agentapi payload structure.",
                "Missing required \"messages\" field."};
  auto envelope = json::serialize(json::object{{"format", "agentapi"}, {"data", payload}});
  deps.tasks.save_snapshot(agent.agent, agent.workspace_id, *task_id, envelope);
  return http::no_content();
}

}  // namespace berth::api
