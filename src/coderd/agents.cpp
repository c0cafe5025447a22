#include "coderd/agents.hpp"

#include <algorithm>
#include <set>

#include "coderd/workspaces.hpp"
#include "common/crypto.hpp"
#include "common/error.hpp"
#include "common/json.hpp"

namespace berth::coderd {

namespace {

// last_connected_at is rewritten at most this often: agents heartbeat every 15 s, and status
// derivation only needs to know the agent was heard from within the last minute.
constexpr auto kHeartbeatWrite = std::chrono::seconds(10);

std::string str(const json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : "";
}

constexpr const char* kStatsCounters[] = {"connection_count",
                                          "rx_packets",
                                          "rx_bytes",
                                          "tx_packets",
                                          "tx_bytes",
                                          "session_count_vscode",
                                          "session_count_jetbrains",
                                          "session_count_ssh",
                                          "session_count_reconnecting_pty"};
constexpr std::size_t kMaxConnectionProtocols = 16;

std::int64_t counter(const json::object& stats, const std::string& key) {
  auto* v = stats.if_contains(key);
  if (!v || v->is_null()) return 0;
  if (v->is_int64() && v->get_int64() >= 0) return v->get_int64();
  if (v->is_uint64() && v->get_uint64() <= std::uint64_t(INT64_MAX))
    return std::int64_t(v->get_uint64());
  throw Error{ErrorCode::invalid,
              "Invalid stats.",
              {},
              {{"stats." + key, "must be a non-negative integer"}}};
}

Error not_authorized(const std::string& detail) {
  return Error{ErrorCode::unauthenticated, "Workspace agent not authorized.", detail};
}

}  // namespace

std::string agent_logs_channel(const Uuid& agent_id) {
  return "workspace_agent_logs:" + agent_id.to_string();
}

// AgentRegistry

void AgentRegistry::add(const Uuid& agent_id, std::shared_ptr<AgentLink> link) {
  std::shared_ptr<AgentLink> replaced;
  {
    std::lock_guard lock(mutex_);
    auto& slot = links_[agent_id];
    replaced = std::exchange(slot, std::move(link));
  }
  if (replaced) replaced->close();  // outside the lock: close() may call back into remove()
}

bool AgentRegistry::remove(const Uuid& agent_id, const AgentLink* link) {
  std::lock_guard lock(mutex_);
  auto it = links_.find(agent_id);
  if (it == links_.end() || it->second.get() != link) return false;
  links_.erase(it);
  return true;
}

std::shared_ptr<AgentLink> AgentRegistry::find(const Uuid& agent_id) const {
  std::lock_guard lock(mutex_);
  auto it = links_.find(agent_id);
  return it == links_.end() ? nullptr : it->second;
}

std::size_t AgentRegistry::size() const {
  std::lock_guard lock(mutex_);
  return links_.size();
}

// Agents

Agents::Agents(store::Store& store, store::Pubsub& pubsub, const Clock& clock)
    : store_(store), pubsub_(pubsub), clock_(clock) {}

AgentIdentity Agents::authenticate(const std::string& token) {
  if (token.empty())
    throw Error{ErrorCode::unauthenticated, "Workspace agent token required.",
                "Set the Coder-Session-Token header to the agent's token."};
  if (!Uuid::parse(token))
    throw Error{ErrorCode::unauthenticated, "Workspace agent token invalid.",
                "An agent token must be a UUID."};
  auto agent = store_.get_workspace_agent_by_token_hash(to_hex(sha256(token)));
  if (!agent) throw not_authorized("No agent has this token.");
  auto resource = store_.get_workspace_resource_by_id(agent->resource_id);
  auto build = resource ? store_.get_workspace_build_by_job_id(resource->job_id) : std::nullopt;
  auto workspace = build ? store_.get_workspace_by_id(build->workspace_id) : std::nullopt;
  if (!workspace || workspace->deleted) throw not_authorized("The agent's workspace is gone.");
  auto latest = store_.get_latest_workspace_build(workspace->id);
  // While a newer build is still running (the stop that is shutting this agent down), the
  // agent may still report: its shutdown scripts upload task snapshots and app statuses.
  bool superseded_in_progress = false;
  if (latest && latest->id != build->id && latest->build_number == build->build_number + 1) {
    auto job = store_.get_provisioner_job_by_id(latest->job_id);
    superseded_in_progress = job && !job->completed_at;
  }
  if (!latest || (latest->id != build->id && !superseded_in_progress))
    throw not_authorized("The agent belongs to a build that is not the workspace's latest.");
  return AgentIdentity{std::move(*agent), workspace->id, workspace->owner_id};
}

store::WorkspaceAgentRow Agents::current(const AgentIdentity& id) {
  auto agent = store_.get_workspace_agent_by_id(id.agent.id);
  if (!agent) throw Error{ErrorCode::not_found, kResourceNotFoundMessage};
  return *agent;
}

void Agents::publish(const AgentIdentity& id) {
  pubsub_.publish(workspace_channel(id.workspace_id), id.agent.id.to_string());
}

void Agents::connected(const AgentIdentity& id) {
  auto now = clock_.now();
  store_.in_tx([&](store::Store& tx) {
    auto agent = current(id);
    tx.update_workspace_agent_connection_by_id(agent.id, agent.first_connected_at.value_or(now),
                                               now, agent.disconnected_at, now);
    // The build's log sources (one per script) become rows, so logs can name them.
    auto config = json::parse(agent.config);
    if (auto* sources = config.as_object().if_contains("log_sources");
        sources && sources->is_array())
      for (const auto& s : sources->get_array()) {
        const auto& o = s.as_object();
        auto source_id = Uuid::parse(str(o, "id"));
        if (source_id)
          tx.upsert_workspace_agent_log_source(
              {*source_id, agent.id, now, str(o, "display_name"), str(o, "icon")});
      }
  });
  {
    std::lock_guard lock(mutex_);
    last_heartbeat_write_[id.agent.id] = clock_.steady_now();
  }
  publish(id);
}

void Agents::heartbeat(const AgentIdentity& id) {
  auto steady = clock_.steady_now();
  {
    std::lock_guard lock(mutex_);
    auto& last = last_heartbeat_write_[id.agent.id];
    if (steady - last < kHeartbeatWrite) return;
    last = steady;
  }
  auto agent = current(id);
  store_.update_workspace_agent_connection_by_id(agent.id, agent.first_connected_at, clock_.now(),
                                                 agent.disconnected_at, clock_.now());
  publish(id);
}

void Agents::disconnected(const AgentIdentity& id) {
  {
    std::lock_guard lock(mutex_);
    last_heartbeat_write_.erase(id.agent.id);
  }
  auto agent = current(id);
  auto now = clock_.now();
  store_.update_workspace_agent_connection_by_id(agent.id, agent.first_connected_at,
                                                 agent.last_connected_at, now, now);
  publish(id);
}

void Agents::update_startup(const AgentIdentity& id, const std::string& version,
                            const std::string& api_version, const std::string& expanded_directory) {
  store_.update_workspace_agent_startup_by_id(id.agent.id, version, api_version, expanded_directory,
                                              clock_.now());
  publish(id);
}

void Agents::update_lifecycle(const AgentIdentity& id, const std::string& state_text,
                              std::optional<TimePoint> changed_at) {
  using Lifecycle = sdk::WorkspaceAgentLifecycle;
  auto parsed = sdk::parse<Lifecycle>(state_text);
  if (!parsed) {
    std::string detail = "\"";
    detail.append(state_text).append("\" is not a workspace agent lifecycle state.");
    throw Error{ErrorCode::invalid, "Invalid lifecycle state.", detail};
  }
  auto state = *parsed;
  auto at = changed_at.value_or(clock_.now());
  store_.in_tx([&](store::Store& tx) {
    auto agent = current(id);
    auto started = agent.started_at;
    auto ready = agent.ready_at;
    // Coder: starting (re)sets started_at and clears ready_at; an end of start sets ready_at.
    if (state == Lifecycle::starting) {
      started = at;
      ready.reset();
    } else if (state == Lifecycle::ready || state == Lifecycle::start_timeout ||
               state == Lifecycle::start_error) {
      ready = at;
      if (!started) started = at;
    }
    tx.update_workspace_agent_lifecycle_by_id(agent.id, state, started, ready, clock_.now());
  });
  publish(id);
}

void Agents::create_logs(const AgentIdentity& id, const std::optional<Uuid>& log_source_id,
                         const std::vector<AgentLogInput>& logs) {
  if (logs.empty()) return;
  auto now = clock_.now();
  auto source = log_source_id.value_or(*Uuid::parse(kExternalLogSourceId));
  bool refused = false;
  bool overflowed_now = false;
  store_.in_tx([&](store::Store& tx) {
    auto agent = current(id);
    std::int64_t bytes = 0;
    std::vector<store::WorkspaceAgentLogRow> rows;
    for (const auto& l : logs) {
      bytes += std::int64_t(l.output.size());
      rows.push_back({0, agent.id, l.created_at.value_or(now), l.output,
                      l.level.empty() ? "info" : l.level, source});
    }
    // Coder: once an agent overflowed, every later batch is refused too, even one that fits.
    if (agent.logs_overflowed || agent.logs_length + bytes > kMaxAgentLogsBytes) {
      refused = true;
      overflowed_now = !agent.logs_overflowed;
      if (overflowed_now)
        tx.update_workspace_agent_logs_length_by_id(agent.id, agent.logs_length, true);
      return;
    }
    if (!log_source_id)
      tx.upsert_workspace_agent_log_source(
          {source, agent.id, now, "External", "/emojis/1f310.png"});
    tx.insert_workspace_agent_logs(rows);
    tx.update_workspace_agent_logs_length_by_id(agent.id, agent.logs_length + bytes,
                                                agent.logs_overflowed);
  });
  if (overflowed_now) publish(id);
  if (refused)
    throw Error{ErrorCode::too_large, "Logs limit exceeded",
                "An agent may store at most 1 MiB of log output."};
  pubsub_.publish(agent_logs_channel(id.agent.id), id.agent.id.to_string());
}

void Agents::upsert_log_source(const AgentIdentity& id, const Uuid& source_id,
                               const std::string& display_name, const std::string& icon) {
  store_.upsert_workspace_agent_log_source(
      {source_id, id.agent.id, clock_.now(), display_name, icon});
  publish(id);
}

void Agents::update_app_healths(const AgentIdentity& id,
                                const std::vector<AppHealthInput>& updates) {
  auto config = json::parse(id.agent.config);
  std::set<std::string> checked;  // apps that have a healthcheck url
  if (auto* apps = config.as_object().if_contains("apps"); apps && apps->is_array())
    for (const auto& a : apps->get_array()) {
      const auto& app = a.as_object();
      auto* hc = app.if_contains("healthcheck");
      if (hc && hc->is_object() && !str(hc->get_object(), "url").empty())
        checked.insert(str(app, "id"));
    }
  static const std::set<std::string> kHealths = {"initializing", "healthy", "unhealthy"};
  for (const auto& u : updates) {
    if (!checked.contains(u.app_id))
      throw Error{ErrorCode::invalid, "Invalid app health update.",
                  "App \"" + u.app_id + "\" is not an app of this agent with a healthcheck."};
    if (!kHealths.contains(u.health))
      throw Error{ErrorCode::invalid, "Invalid app health update.",
                  "\"" + u.health + "\" is not an app health."};
  }
  auto now = clock_.now();
  store_.in_tx([&](store::Store& tx) {
    for (const auto& u : updates)
      tx.upsert_workspace_app_health({id.agent.id, u.app_id, u.health, now});
  });
  if (!updates.empty()) publish(id);
}

void Agents::update_metadata(const AgentIdentity& id,
                             const std::vector<store::WorkspaceAgentMetadataRow>& items) {
  store_.in_tx([&](store::Store& tx) {
    for (auto item : items) {
      item.agent_id = id.agent.id;
      tx.upsert_workspace_agent_metadata(item);
    }
  });
  if (!items.empty()) publish(id);
}

void Agents::script_completed(const AgentIdentity& id,
                              store::WorkspaceAgentScriptTimingRow timing) {
  timing.agent_id = id.agent.id;
  store_.insert_workspace_agent_script_timing(timing);
  publish(id);
}

AgentStatsInput read_agent_stats(const json::object& params) {
  AgentStatsInput in;
  static const json::object kNone;
  auto* raw = params.if_contains("stats");
  if (raw && !raw->is_object() && !raw->is_null())
    throw Error{ErrorCode::invalid, "Invalid stats.", {}, {{"stats", "must be an object"}}};
  const auto& stats = raw && raw->is_object() ? raw->get_object() : kNone;
  for (const char* key : kStatsCounters) in.stats[key] = counter(stats, key);
  in.sessions = counter(stats, "session_count_vscode") + counter(stats, "session_count_jetbrains") +
                counter(stats, "session_count_ssh") +
                counter(stats, "session_count_reconnecting_pty");
  json::object protocols;
  if (auto* by = stats.if_contains("connections_by_proto"); by && by->is_object()) {
    if (by->get_object().size() > kMaxConnectionProtocols)
      throw Error{ErrorCode::invalid,
                  "Invalid stats.",
                  {},
                  {{"stats.connections_by_proto", "too many protocols"}}};
    for (const auto& [proto, _] : by->get_object())
      protocols[proto] = counter(by->get_object(), std::string(proto));
  }
  in.stats["connections_by_proto"] = std::move(protocols);
  auto number = [&](const json::object& o, const char* key, const std::string& field) {
    auto* v = o.if_contains(key);
    if (!v || v->is_null()) return std::optional<double>();
    if (!v->is_number() || v->to_number<double>() < 0)
      throw Error{
          ErrorCode::invalid, "Invalid stats.", {}, {{field, "must be a non-negative number"}}};
    return std::optional(v->to_number<double>());
  };
  in.stats["connection_median_latency_ms"] =
      number(stats, "connection_median_latency_ms", "stats.connection_median_latency_ms")
          .value_or(0);
  in.latency_ms = number(params, "latency_ms", "latency_ms");
  return in;
}

void Agents::update_stats(const AgentIdentity& id, const AgentStatsInput& input) {
  auto now = clock_.now();
  std::optional<std::int64_t> latency_us;
  if (input.latency_ms) latency_us = std::int64_t(*input.latency_ms * 1000);
  store_.upsert_workspace_agent_stats({id.agent.id, now, json::serialize(input.stats), latency_us});
  if (input.sessions > 0) {
    if (auto workspace = store_.get_workspace_by_id(id.workspace_id);
        workspace && !workspace->deleted) {
      workspace->last_used_at = now;
      store_.update_workspace(*workspace);
      bump_workspace_activity(store_, *workspace, now);
    }
  }
  pubsub_.publish(workspace_channel(id.workspace_id), "stats_update");
}

}  // namespace berth::coderd
