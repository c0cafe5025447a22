// SqliteStore: the replicas (the `berth server` processes sharing the database). The same SQL
// runs on PostgreSQL.
#include "store/sqlite/helpers.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace berth::store::sqlite {

namespace {

constexpr const char* kReplicaColumns =
    "id, hostname, relay_address, region_id, version, started_at, updated_at, stopped_at, error, "
    "database_latency_us";

constexpr const char* kReplicaColumnsOfR =
    "id, r.hostname, r.relay_address, r.region_id, r.version, r.started_at, r.updated_at, "
    "r.stopped_at, r.error, r.database_latency_us";

ReplicaRow read_replica(const Statement& q) {
  return ReplicaRow{q.uuid(0), q.text(1), q.text(2),           q.integer(3), q.text(4),
                    q.time(5), q.time(6), optional_time(q, 7), q.text(8),    q.integer(9)};
}

}  // namespace

void SqliteStore::upsert_replica(const ReplicaRow& r) {
  auto db = pool_.writer();
  Statement q(*db,
              std::string("INSERT INTO replicas (") + kReplicaColumns +
                  ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
                  "ON CONFLICT (id) DO UPDATE SET hostname = excluded.hostname, "
                  "relay_address = excluded.relay_address, region_id = excluded.region_id, "
                  "version = excluded.version, started_at = excluded.started_at, "
                  "updated_at = excluded.updated_at, stopped_at = excluded.stopped_at, "
                  "error = excluded.error, database_latency_us = excluded.database_latency_us");
  q.bind(1, r.id).bind(2, r.hostname).bind(3, r.relay_address).bind(4, r.region_id);
  q.bind(5, r.version).bind(6, r.started_at).bind(7, r.updated_at);
  bind_optional(q, 8, r.stopped_at);
  q.bind(9, r.error).bind(10, r.database_latency_us).run();
}

std::optional<ReplicaRow> SqliteStore::get_replica_by_id(const Uuid& id) {
  auto db = pool_.reader();
  Statement q(*db, select_from(kReplicaColumns, "replicas", "WHERE id = ?"));
  q.bind(1, id);
  return first<ReplicaRow>(q, read_replica);
}

bool SqliteStore::update_replica_heartbeat(const Uuid& id, TimePoint now,
                                           std::int64_t database_latency_us,
                                           const std::string& error) {
  auto db = pool_.writer();
  Statement q(
      *db, "UPDATE replicas SET updated_at = ?, database_latency_us = ?, error = ? WHERE id = ?");
  q.bind(1, now).bind(2, database_latency_us).bind(3, error).bind(4, id);
  return q.run() > 0;
}

void SqliteStore::update_replica_stopped(const Uuid& id, TimePoint now) {
  auto db = pool_.writer();
  Statement q(*db, "UPDATE replicas SET stopped_at = ?1, updated_at = ?1 WHERE id = ?2");
  q.bind(1, now).bind(2, id).run();
}

std::vector<ReplicaRow> SqliteStore::list_alive_replicas(TimePoint updated_after) {
  auto db = pool_.reader();
  Statement q(*db, select_from(kReplicaColumns, "replicas",
                               "WHERE updated_at >= ? AND stopped_at IS NULL "
                               "ORDER BY started_at, id"));
  q.bind(1, updated_after);
  return collect<ReplicaRow>(q, read_replica);
}

std::int64_t SqliteStore::delete_replicas_updated_before(TimePoint before) {
  auto db = pool_.writer();
  Statement q(*db, "DELETE FROM replicas WHERE updated_at < ?");
  q.bind(1, before);
  return q.run();
}

void SqliteStore::upsert_agent_connection(const Uuid& agent_id, const Uuid& replica_id,
                                          TimePoint now) {
  auto db = pool_.writer();
  Statement q(*db,
              "INSERT INTO agent_connections (agent_id, replica_id, connected_at) VALUES (?, ?, ?) "
              "ON CONFLICT (agent_id) DO UPDATE SET replica_id = excluded.replica_id, "
              "connected_at = excluded.connected_at");
  q.bind(1, agent_id).bind(2, replica_id).bind(3, now).run();
}

bool SqliteStore::delete_agent_connection(const Uuid& agent_id, const Uuid& replica_id) {
  auto db = pool_.writer();
  Statement q(*db, "DELETE FROM agent_connections WHERE agent_id = ? AND replica_id = ?");
  q.bind(1, agent_id).bind(2, replica_id);
  return q.run() > 0;
}

std::optional<ReplicaRow> SqliteStore::get_agent_connection_replica(const Uuid& agent_id,
                                                                    TimePoint alive_after) {
  auto db = pool_.reader();
  Statement q(*db, std::string("SELECT r.") + kReplicaColumnsOfR +
                       " FROM agent_connections c JOIN replicas r ON r.id = c.replica_id "
                       "WHERE c.agent_id = ? AND r.updated_at >= ? AND r.stopped_at IS NULL");
  q.bind(1, agent_id).bind(2, alive_after);
  return first<ReplicaRow>(q, read_replica);
}

}  // namespace berth::store::sqlite
