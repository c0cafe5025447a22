// SqliteStore: what running agents report (connection, lifecycle, logs, app health,
// metadata, script timings).
#include "store/sqlite/helpers.hpp"
#include "store/sqlite/row_json.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace berth::store::sqlite {

namespace {

constexpr const char* kLogColumns = "id, agent_id, created_at, output, level, log_source_id";

WorkspaceAgentLogRow read_log(const Statement& q) {
  return WorkspaceAgentLogRow{q.integer(0), q.uuid(1), q.time(2), q.text(3), q.text(4), q.uuid(5)};
}

}  // namespace

std::optional<WorkspaceResourceRow> SqliteStore::get_workspace_resource_by_id(const Uuid& id) {
  auto db = pool_.reader();
  Statement q(*db, select_from("id, created_at, job_id, transition, type, name, hide, icon, "
                               "daily_cost, metadata",
                               "workspace_resources", "WHERE id = ?"));
  q.bind(1, id);
  return first<WorkspaceResourceRow>(q, [](const Statement& s) {
    return WorkspaceResourceRow{
        s.uuid(0),    s.time(1),
        s.uuid(2),    enum_column<sdk::WorkspaceTransition>(s, 3, "resource transition"),
        s.text(4),    s.text(5),
        s.boolean(6), s.text(7),
        s.integer(8), resource_metadata_from_json(s.text(9), "workspace_resources.metadata")};
  });
}

void SqliteStore::update_workspace_agent_connection_by_id(
    const Uuid& id, std::optional<TimePoint> first_connected_at,
    std::optional<TimePoint> last_connected_at, std::optional<TimePoint> disconnected_at,
    TimePoint now) {
  auto db = pool_.writer();
  Statement q(*db,
              "UPDATE workspace_agents SET first_connected_at = ?, last_connected_at = ?, "
              "disconnected_at = ?, updated_at = ? WHERE id = ?");
  bind_optional(q, 1, first_connected_at);
  bind_optional(q, 2, last_connected_at);
  bind_optional(q, 3, disconnected_at);
  q.bind(4, now).bind(5, id).run();
}

void SqliteStore::update_workspace_agent_startup_by_id(const Uuid& id, const std::string& version,
                                                       const std::string& api_version,
                                                       const std::string& expanded_directory,
                                                       TimePoint now) {
  auto db = pool_.writer();
  Statement q(*db,
              "UPDATE workspace_agents SET version = ?, api_version = ?, expanded_directory = ?, "
              "updated_at = ? WHERE id = ?");
  q.bind(1, version).bind(2, api_version).bind(3, expanded_directory).bind(4, now).bind(5, id);
  q.run();
}

void SqliteStore::update_workspace_agent_lifecycle_by_id(const Uuid& id,
                                                         sdk::WorkspaceAgentLifecycle state,
                                                         std::optional<TimePoint> started_at,
                                                         std::optional<TimePoint> ready_at,
                                                         TimePoint now) {
  auto db = pool_.writer();
  Statement q(*db,
              "UPDATE workspace_agents SET lifecycle_state = ?, started_at = ?, ready_at = ?, "
              "updated_at = ? WHERE id = ?");
  q.bind(1, sdk::to_string(state));
  bind_optional(q, 2, started_at);
  bind_optional(q, 3, ready_at);
  q.bind(4, now).bind(5, id).run();
}

void SqliteStore::update_workspace_agent_logs_length_by_id(const Uuid& id, std::int64_t length,
                                                           bool overflowed) {
  auto db = pool_.writer();
  Statement q(*db, "UPDATE workspace_agents SET logs_length = ?, logs_overflowed = ? WHERE id = ?");
  q.bind(1, length).bind(2, overflowed).bind(3, id).run();
}

std::vector<std::int64_t> SqliteStore::insert_workspace_agent_logs(
    const std::vector<WorkspaceAgentLogRow>& logs) {
  auto db = pool_.writer();
  std::vector<std::int64_t> ids;
  for (const auto& log : logs) {
    Statement q(*db,
                "INSERT INTO workspace_agent_logs (agent_id, created_at, output, level, "
                "log_source_id) VALUES (?, ?, ?, ?, ?) RETURNING id");
    q.bind(1, log.agent_id).bind(2, log.created_at).bind(3, log.output).bind(4, log.level);
    q.bind(5, log.log_source_id);
    q.step();
    ids.push_back(q.integer(0));
    while (q.step()) {
    }
  }
  return ids;
}

std::vector<WorkspaceAgentLogRow> SqliteStore::list_workspace_agent_logs_after(
    const Uuid& agent_id, std::int64_t after_id, std::int64_t limit) {
  auto db = pool_.reader();
  Statement q(*db, select_from(kLogColumns, "workspace_agent_logs",
                               "WHERE agent_id = ? AND id > ? ORDER BY id LIMIT ?"));
  q.bind(1, agent_id).bind(2, after_id).bind(3, limit > 0 ? limit : kNoLimit);
  return collect<WorkspaceAgentLogRow>(q, read_log);
}

void SqliteStore::upsert_workspace_agent_log_source(const WorkspaceAgentLogSourceRow& r) {
  auto db = pool_.writer();
  Statement q(*db,
              "INSERT INTO workspace_agent_log_sources (id, agent_id, created_at, display_name, "
              "icon) VALUES (?, ?, ?, ?, ?) ON CONFLICT (agent_id, id) DO UPDATE SET "
              "display_name = excluded.display_name, icon = excluded.icon");
  q.bind(1, r.id).bind(2, r.agent_id).bind(3, r.created_at).bind(4, r.display_name);
  q.bind(5, r.icon).run();
}

std::vector<WorkspaceAgentLogSourceRow> SqliteStore::list_workspace_agent_log_sources_by_agent_ids(
    const std::vector<Uuid>& agent_ids) {
  auto db = pool_.reader();
  return collect_by_ids<WorkspaceAgentLogSourceRow>(
      *db,
      select_from(
          "id, agent_id, created_at, display_name, icon", "workspace_agent_log_sources",
          std::string("WHERE agent_id ") + in_ids(*db) + " ORDER BY agent_id, created_at, rowid"),
      agent_ids, [](const Statement& s) {
        return WorkspaceAgentLogSourceRow{s.uuid(0), s.uuid(1), s.time(2), s.text(3), s.text(4)};
      });
}

std::vector<WorkspaceAgentLogSourceRow> SqliteStore::list_workspace_agent_log_sources(
    const Uuid& agent_id) {
  auto db = pool_.reader();
  Statement q(*db, select_from("id, agent_id, created_at, display_name, icon",
                               "workspace_agent_log_sources",
                               "WHERE agent_id = ? ORDER BY created_at, rowid"));
  q.bind(1, agent_id);
  return collect<WorkspaceAgentLogSourceRow>(q, [](const Statement& s) {
    return WorkspaceAgentLogSourceRow{s.uuid(0), s.uuid(1), s.time(2), s.text(3), s.text(4)};
  });
}

void SqliteStore::upsert_workspace_app_health(const WorkspaceAppHealthRow& r) {
  auto db = pool_.writer();
  Statement q(*db,
              "INSERT INTO workspace_app_health (agent_id, app_id, health, updated_at) VALUES "
              "(?, ?, ?, ?) ON CONFLICT (agent_id, app_id) DO UPDATE SET health = "
              "excluded.health, updated_at = excluded.updated_at");
  q.bind(1, r.agent_id).bind(2, r.app_id).bind(3, r.health).bind(4, r.updated_at).run();
}

std::vector<WorkspaceAppHealthRow> SqliteStore::list_workspace_app_health_by_agent_ids(
    const std::vector<Uuid>& agent_ids) {
  auto db = pool_.reader();
  return collect_by_ids<WorkspaceAppHealthRow>(
      *db,
      select_from("agent_id, app_id, health, updated_at", "workspace_app_health",
                  std::string("WHERE agent_id ") + in_ids(*db) + " ORDER BY agent_id, app_id"),
      agent_ids, [](const Statement& s) {
        return WorkspaceAppHealthRow{s.uuid(0), s.text(1), s.text(2), s.time(3)};
      });
}

std::vector<WorkspaceAppHealthRow> SqliteStore::list_workspace_app_health(const Uuid& agent_id) {
  auto db = pool_.reader();
  Statement q(*db, select_from("agent_id, app_id, health, updated_at", "workspace_app_health",
                               "WHERE agent_id = ? ORDER BY app_id"));
  q.bind(1, agent_id);
  return collect<WorkspaceAppHealthRow>(q, [](const Statement& s) {
    return WorkspaceAppHealthRow{s.uuid(0), s.text(1), s.text(2), s.time(3)};
  });
}

void SqliteStore::upsert_workspace_agent_metadata(const WorkspaceAgentMetadataRow& r) {
  auto db = pool_.writer();
  Statement q(*db,
              "INSERT INTO workspace_agent_metadata (agent_id, key, value, error, collected_at) "
              "VALUES (?, ?, ?, ?, ?) ON CONFLICT (agent_id, key) DO UPDATE SET value = "
              "excluded.value, error = excluded.error, collected_at = excluded.collected_at");
  q.bind(1, r.agent_id).bind(2, r.key).bind(3, r.value).bind(4, r.error).bind(5, r.collected_at);
  q.run();
}

std::vector<WorkspaceAgentMetadataRow> SqliteStore::list_workspace_agent_metadata(
    const Uuid& agent_id) {
  auto db = pool_.reader();
  Statement q(*db, select_from("agent_id, key, value, error, collected_at",
                               "workspace_agent_metadata", "WHERE agent_id = ? ORDER BY key"));
  q.bind(1, agent_id);
  return collect<WorkspaceAgentMetadataRow>(q, [](const Statement& s) {
    return WorkspaceAgentMetadataRow{s.uuid(0), s.text(1), s.text(2), s.text(3), s.time(4)};
  });
}

void SqliteStore::insert_workspace_agent_script_timing(const WorkspaceAgentScriptTimingRow& r) {
  auto db = pool_.writer();
  Statement q(*db,
              "INSERT INTO workspace_agent_script_timings (agent_id, script_id, display_name, "
              "started_at, ended_at, exit_code, stage, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  q.bind(1, r.agent_id).bind(2, r.script_id).bind(3, r.display_name).bind(4, r.started_at);
  q.bind(5, r.ended_at).bind(6, r.exit_code).bind(7, r.stage).bind(8, r.status).run();
}

std::vector<WorkspaceAgentScriptTimingRow> SqliteStore::list_workspace_agent_script_timings(
    const Uuid& agent_id) {
  auto db = pool_.reader();
  Statement q(*db, select_from("agent_id, script_id, display_name, started_at, ended_at, "
                               "exit_code, stage, status",
                               "workspace_agent_script_timings",
                               "WHERE agent_id = ? ORDER BY started_at, rowid"));
  q.bind(1, agent_id);
  return collect<WorkspaceAgentScriptTimingRow>(q, [](const Statement& s) {
    return WorkspaceAgentScriptTimingRow{s.uuid(0), s.text(1),    s.text(2), s.time(3),
                                         s.time(4), s.integer(5), s.text(6), s.text(7)};
  });
}

void SqliteStore::upsert_workspace_agent_stats(const WorkspaceAgentStatsRow& row) {
  auto db = pool_.writer();
  Statement q(*db,
              "INSERT INTO workspace_agent_stats (agent_id, updated_at, stats, latency_us) "
              "VALUES (?, ?, ?, ?) ON CONFLICT (agent_id) DO UPDATE SET "
              "updated_at = excluded.updated_at, stats = excluded.stats, "
              "latency_us = COALESCE(excluded.latency_us, workspace_agent_stats.latency_us)");
  q.bind(1, row.agent_id).bind(2, row.updated_at).bind(3, row.stats);
  bind_optional(q, 4, row.latency_us);
  q.run();
}

std::vector<WorkspaceAgentStatsRow> SqliteStore::list_workspace_agent_stats_by_agent_ids(
    const std::vector<Uuid>& agent_ids) {
  auto db = pool_.reader();
  return collect_by_ids<WorkspaceAgentStatsRow>(
      *db,
      select_from("agent_id, updated_at, stats, latency_us", "workspace_agent_stats",
                  std::string("WHERE agent_id ") + in_ids(*db)),
      agent_ids, [](const Statement& s) {
        return WorkspaceAgentStatsRow{s.uuid(0), s.time(1), s.text(2),
                                      s.is_null(3) ? std::nullopt : std::optional(s.integer(3))};
      });
}

std::optional<WorkspaceAgentStatsRow> SqliteStore::get_workspace_agent_stats(const Uuid& agent_id) {
  auto db = pool_.reader();
  Statement q(*db, select_from("agent_id, updated_at, stats, latency_us", "workspace_agent_stats",
                               "WHERE agent_id = ?"));
  q.bind(1, agent_id);
  return first<WorkspaceAgentStatsRow>(q, [](const Statement& s) {
    return WorkspaceAgentStatsRow{s.uuid(0), s.time(1), s.text(2),
                                  s.is_null(3) ? std::nullopt : std::optional(s.integer(3))};
  });
}

}  // namespace berth::store::sqlite
