#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/json.hpp"
#include "store/pubsub.hpp"
#include "store/store.hpp"

namespace berth::coderd {

// Most bytes of log output one agent may store (Coder's 1 MiB check on logs_length).
inline constexpr std::int64_t kMaxAgentLogsBytes = 1 << 20;

// The "External" log source Coder files source-less lines under.
inline constexpr const char* kExternalLogSourceId = "3b579bf4-1ed8-4b99-87a8-e9a1e3410410";

// Pubsub channel that announces new log lines of one agent (payload: the agent id).
std::string agent_logs_channel(const Uuid& agent_id);

// A live agent connection as the rest of the server sees it (api/ implements it over the
// WebSocket). Thread-safe.
class AgentLink {
 public:
  virtual ~AgentLink() = default;
  // Queues one protocol message (JSON text) to the agent; false if the link is gone.
  virtual bool send(std::string message) = 0;
  virtual void close() = 0;
};

// Agent id → its live connection, for whatever must reach into a workspace (app proxy,
// PTY, port streams). A newer connection of the same agent replaces (and closes) the older.
class AgentRegistry {
 public:
  void add(const Uuid& agent_id, std::shared_ptr<AgentLink> link);
  // Removes the entry only while it is still `link` (a replacement may already be there);
  // true if it did.
  bool remove(const Uuid& agent_id, const AgentLink* link);
  std::shared_ptr<AgentLink> find(const Uuid& agent_id) const;
  std::size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::map<Uuid, std::shared_ptr<AgentLink>> links_;
};

// An agent authenticated by its token: its row and the workspace it runs in.
struct AgentIdentity {
  store::WorkspaceAgentRow agent;
  Uuid workspace_id;
  Uuid owner_id;
};

// One log line as an agent sends it.
struct AgentLogInput {
  std::optional<TimePoint> created_at;
  std::string output;
  std::string level;  // empty = info
};

// One app health change as an agent reports it.
struct AppHealthInput {
  std::string app_id;
  std::string health;
};

// One stats report of an agent (Coder's agentsdk.Stats), checked and reduced to what Berth
// keeps: the counters as a JSON document, and the agent's round trip to the server.
struct AgentStatsInput {
  json::object stats;                // known agentsdk.Stats fields only
  std::int64_t sessions = 0;         // vscode + jetbrains + reconnecting_pty + ssh sessions
  std::optional<double> latency_ms;  // the agent's last heartbeat round trip
};

// Reads an update_stats request's params ({stats: agentsdk.Stats, latency_ms?}); throws
// Error{invalid} naming the field for a negative count or a value of the wrong type.
AgentStatsInput read_agent_stats(const json::object& params);

// How often agents report stats unless the server says otherwise (Coder's
// --agent-stats-refresh-interval default).
inline constexpr std::chrono::milliseconds kDefaultAgentStatsInterval{30'000};

// The rules for what agents report: connection, lifecycle, logs, health, metadata, timings.
// Every change publishes the workspace channel (logs their own channel) after it is written.
class Agents {
 public:
  Agents(store::Store& store, store::Pubsub& pubsub, const Clock& clock);

  // The agent whose token this is, of the latest build of a live workspace; else throws
  // Error{unauthenticated} with Coder's messages.
  AgentIdentity authenticate(const std::string& token);

  void connected(const AgentIdentity& id);
  // Refreshes last_connected_at, at most once per kHeartbeatWrite per agent.
  void heartbeat(const AgentIdentity& id);
  void disconnected(const AgentIdentity& id);
  void update_startup(const AgentIdentity& id, const std::string& version,
                      const std::string& api_version, const std::string& expanded_directory);
  // Throws Error{invalid} for an unknown state.
  void update_lifecycle(const AgentIdentity& id, const std::string& state,
                        std::optional<TimePoint> changed_at);
  // Stores a batch whole or not at all; throws Error{too_large} past kMaxAgentLogsBytes.
  void create_logs(const AgentIdentity& id, const std::optional<Uuid>& log_source_id,
                   const std::vector<AgentLogInput>& logs);
  void upsert_log_source(const AgentIdentity& id, const Uuid& source_id,
                         const std::string& display_name, const std::string& icon);
  // Throws Error{invalid} for an app that is not the agent's or has no healthcheck.
  void update_app_healths(const AgentIdentity& id, const std::vector<AppHealthInput>& updates);
  void update_metadata(const AgentIdentity& id,
                       const std::vector<store::WorkspaceAgentMetadataRow>& items);
  void script_completed(const AgentIdentity& id, store::WorkspaceAgentScriptTimingRow timing);
  // Stores the latest stats; open sessions count as use of the workspace: last_used_at now
  // and an activity bump of the deadline (never past max_deadline).
  void update_stats(const AgentIdentity& id, const AgentStatsInput& input);

  // How often agents are told to report stats.
  void set_stats_interval(std::chrono::milliseconds interval) { stats_interval_ = interval; }
  std::chrono::milliseconds stats_interval() const { return stats_interval_.load(); }

 private:
  void publish(const AgentIdentity& id);
  store::WorkspaceAgentRow current(const AgentIdentity& id);

  store::Store& store_;
  store::Pubsub& pubsub_;
  const Clock& clock_;
  std::mutex mutex_;
  std::map<Uuid, std::chrono::steady_clock::time_point> last_heartbeat_write_;
  std::atomic<std::chrono::milliseconds> stats_interval_{kDefaultAgentStatsInterval};
};

}  // namespace berth::coderd
