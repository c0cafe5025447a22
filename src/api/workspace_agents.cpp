// /api/v2/workspaceagents: an agent as users read it, and the endpoints agents call with
// their token (`me`).
#include <memory>

#include "api/agent_rpc.hpp"
#include "api/agent_stream_bridge.hpp"
#include "api/auth.hpp"
#include "api/handlers.hpp"
#include "api/params.hpp"
#include "api/replica_relay.hpp"
#include "api/workspace_agents_json.hpp"
#include "api/workspace_watch.hpp"
#include "api/workspaces_json.hpp"
#include "coderd/rbac.hpp"
#include "coderd/workspaces.hpp"
#include "common/error.hpp"
#include "http/error_response.hpp"
#include "http/push.hpp"

namespace berth::api {

namespace {

// Log lines per message of a follow stream; a backlog goes out in slices.
constexpr std::int64_t kFollowBatch = 500;

// `logs?follow`: each message is a JSON array of the lines written since the last one, woken
// by the agent's log channel. Runs until the client leaves.
class AgentLogStream final : public http::PushSource {
 public:
  AgentLogStream(store::Store& store, store::Pubsub& pubsub, Uuid agent_id, std::int64_t after)
      : store_(store), agent_id_(agent_id), last_id_(after) {
    // Subscribed before the first read, so that no line written in between is missed.
    subscription_ = pubsub.subscribe(coderd::agent_logs_channel(agent_id),
                                     [this](const std::string&) { wake(); });
  }

  http::PushBatch next() override {
    http::PushBatch batch;
    auto logs = store_.list_workspace_agent_logs_after(agent_id_, last_id_, kFollowBatch);
    if (logs.empty()) return batch;
    json::array lines;
    for (const auto& log : logs) lines.push_back(agent_log_json(log));
    last_id_ = logs.back().id;
    batch.messages.push_back(json::serialize(lines));
    if (std::int64_t(logs.size()) == kFollowBatch) wake();  // more are waiting
    return batch;
  }

 private:
  store::Store& store_;
  Uuid agent_id_;
  std::int64_t last_id_;
  store::Pubsub::Subscription subscription_;
};

// `{workspaceagent}`: the agent, readable when its workspace is (404 otherwise).
store::WorkspaceAgentRow resolve_agent_param(Deps& deps, const Request& request,
                                             const Authenticated& auth,
                                             store::WorkspaceRow* workspace_out = nullptr) {
  auto id = parse_uuid_param(request, "workspaceagent");
  auto agent = deps.store.get_workspace_agent_by_id(id);
  auto resource =
      agent ? deps.store.get_workspace_resource_by_id(agent->resource_id) : std::nullopt;
  auto build = resource ? deps.store.get_workspace_build_by_job_id(resource->job_id) : std::nullopt;
  auto workspace = build ? deps.store.get_workspace_by_id(build->workspace_id) : std::nullopt;
  if (!workspace) throw Error{ErrorCode::not_found, kResourceNotFoundMessage};
  coderd::require_visible(auth.subject, coderd::Action::read, coderd::workspace_object(*workspace));
  if (workspace_out) *workspace_out = *workspace;
  return *agent;
}

// Where a request into an agent's workspace goes: the agent's live connection here, or a relay
// to the replica that holds it.
struct AgentRoute {
  std::shared_ptr<AgentRpcSession> session;
  std::optional<Response> relay;
};

// The route to an agent whose workspace the caller may reach into (Coder's SSH permission: the
// owner and those who may change the workspace).
AgentRoute route_to_agent(Deps& deps, const Request& request, const Authenticated& auth) {
  store::WorkspaceRow workspace;
  auto agent = resolve_agent_param(deps, request, auth, &workspace);
  if (!coderd::authorize(auth.subject, coderd::Action::update, coderd::workspace_object(workspace)))
    throw Error{ErrorCode::forbidden, "Forbidden.",
                "You may not open connections into this workspace."};
  auto session = std::dynamic_pointer_cast<AgentRpcSession>(deps.agent_registry.find(agent.id));
  if (session) return {session, std::nullopt};
  if (auto relay = relay_to_agent_replica(deps, request, agent.id)) return {nullptr, relay};
  throw Error{ErrorCode::unavailable, "The workspace agent is not connected.",
              "agent " + agent.id.to_string() + " has no live connection"};
}

std::shared_ptr<AgentMetadataWatch> metadata_watch(Deps& deps, const Request& request,
                                                   const Authenticated& auth,
                                                   WatchFraming framing) {
  store::WorkspaceRow workspace;
  auto agent = resolve_agent_param(deps, request, auth, &workspace);
  return std::make_shared<AgentMetadataWatch>(deps, agent.id, workspace.id, framing);
}

// A non-negative integer query parameter no larger than `max` (0 when absent).
std::int64_t bounded_param(const Request& request, const char* name, std::int64_t max) {
  auto values = request.query_values(name);
  if (values.empty() || values[0].empty()) return 0;
  try {
    std::size_t used = 0;
    auto n = std::stoll(values[0], &used);
    if (used == values[0].size() && n >= 0 && n <= max) return n;
  } catch (const std::exception&) {
  }
  throw Error{ErrorCode::invalid,
              std::string("Query param \"") + name + "\" must be an integer from 0 to " +
                  std::to_string(max) + ".",
              "got \"" + values[0] + "\""};
}

std::int64_t after_param(const Request& request) {
  auto values = request.query_values("after");
  if (values.empty() || values[0].empty()) return 0;
  try {
    std::size_t used = 0;
    auto n = std::stoll(values[0], &used);
    if (used == values[0].size() && n >= 0) return n;
  } catch (const std::exception&) {
  }
  throw Error{ErrorCode::invalid, "Query param \"after\" must be an integer.",
              "\"" + values[0] + "\" is not a log id"};
}

}  // namespace

Response get_workspace_agent(Deps& deps, Request& request, const Authenticated& auth) {
  auto agent = resolve_agent_param(deps, request, auth);
  return http::json_response(200, agent_json(deps, agent, deps.clock.now()));
}

Response get_workspace_agent_logs(Deps& deps, Request& request, const Authenticated& auth) {
  auto agent = resolve_agent_param(deps, request, auth);
  auto after = after_param(request);
  if (request.query_values("follow").size() > 0) {
    Response r;
    r.websocket = std::make_shared<AgentLogStream>(deps.store, deps.pubsub, agent.id, after);
    return r;
  }
  json::array out;
  for (const auto& log : deps.store.list_workspace_agent_logs_after(agent.id, after, 0))
    out.push_back(agent_log_json(log));
  return http::json_response(200, out);
}

Response watch_workspace_agent_metadata(Deps& deps, Request& request, const Authenticated& auth) {
  Response r;
  r.event_stream = metadata_watch(deps, request, auth, WatchFraming::sse);
  return r;
}

Response watch_workspace_agent_metadata_ws(Deps& deps, Request& request,
                                           const Authenticated& auth) {
  Response r;
  r.websocket = metadata_watch(deps, request, auth, WatchFraming::websocket);
  return r;
}

Response workspace_agent_pty(Deps& deps, Request& request, const Authenticated& auth) {
  constexpr std::size_t kMaxCommandBytes = 4096;
  auto reconnect_values = request.query_values("reconnect");
  auto reconnect = reconnect_values.empty() ? std::nullopt : Uuid::parse(reconnect_values[0]);
  if (!reconnect)
    throw Error{ErrorCode::invalid, "Query param \"reconnect\" must be a valid UUID.",
                reconnect_values.empty() ? "it is missing" : "got \"" + reconnect_values[0] + "\""};
  auto height = bounded_param(request, "height", 65535);
  auto width = bounded_param(request, "width", 65535);
  auto commands = request.query_values("command");
  std::string command = commands.empty() ? "" : commands[0];
  if (command.size() > kMaxCommandBytes)
    throw Error{ErrorCode::invalid, "Query param \"command\" is too long.",
                "at most " + std::to_string(kMaxCommandBytes) + " bytes"};
  auto route = route_to_agent(deps, request, auth);
  if (route.relay) return std::move(*route.relay);
  BridgeOptions options;
  options.method = "open_pty";
  options.params = json::object{{"reconnect", reconnect->to_string()},
                                {"height", height},
                                {"width", width},
                                {"command", command}};
  Response r;
  r.duplex = std::make_shared<AgentStreamBridge>(route.session, std::move(options));
  return r;
}

Response workspace_agent_stream(Deps& deps, Request& request, const Authenticated& auth) {
  auto port = bounded_param(request, "port", 65535);
  if (port == 0)
    throw Error{ErrorCode::invalid, "Query param \"port\" must be a TCP port from 1 to 65535."};
  auto route = route_to_agent(deps, request, auth);
  if (route.relay) return std::move(*route.relay);
  BridgeOptions options;
  options.method = "open_stream";
  options.params = json::object{{"port", port}};
  Response r;
  r.duplex = std::make_shared<AgentStreamBridge>(route.session, std::move(options));
  return r;
}

Response agent_rpc(Deps& deps, Request&, const coderd::AgentIdentity& agent) {
  Response r;
  r.duplex = std::make_shared<AgentRpcSession>(deps, agent);
  return r;
}

Response get_agent_manifest(Deps& deps, Request&, const coderd::AgentIdentity& agent) {
  return http::json_response(200, agent_manifest_json(deps, agent));
}

Response patch_agent_logs(Deps& deps, Request& request, const coderd::AgentIdentity& agent) {
  json::ObjectReader body(json::parse_body(request.body));
  auto source = body.uuid("log_source_id");
  const auto* logs = body.array_field("logs");
  body.finish();
  auto lines = read_agent_logs(logs ? *logs : json::array{});
  deps.agents.create_logs(agent, source, lines);
  return http::json_response(200, json::object{});
}

Response post_agent_log_source(Deps& deps, Request& request, const coderd::AgentIdentity& agent) {
  json::ObjectReader body(json::parse_body(request.body));
  auto id = body.uuid("id");
  auto display_name = body.required_string("display_name");
  auto icon = body.string("icon").value_or("");
  if (!id) body.invalid("id", "Validation failed for tag \"required\" with value: \"\"");
  body.finish();
  deps.agents.upsert_log_source(agent, *id, display_name, icon);
  return http::json_response(201, json::object{{"workspace_agent_id", agent.agent.id.to_string()},
                                               {"id", id->to_string()},
                                               {"created_at", format_rfc3339(deps.clock.now())},
                                               {"display_name", display_name},
                                               {"icon", icon}});
}

}  // namespace berth::api
