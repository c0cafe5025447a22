// SqliteStore: provisioner keys and the provisioner daemons heard from. The same SQL runs on
// PostgreSQL.
#include "common/json.hpp"
#include "store/sqlite/helpers.hpp"
#include "store/sqlite/row_json.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace berth::store::sqlite {

namespace {

constexpr const char* kKeyColumns = "id, created_at, organization_id, name, hashed_secret, tags";

ProvisionerKeyRow read_key(const Statement& q) {
  return ProvisionerKeyRow{.id = q.uuid(0),
                           .created_at = q.time(1),
                           .organization_id = q.uuid(2),
                           .name = q.text(3),
                           .hashed_secret = q.text(4),
                           .tags = tags_from_json(q.text(5), "provisioner_keys.tags")};
}

constexpr const char* kDaemonColumns =
    "id, created_at, organization_id, name, key_id, tags, provisioners, version, api_version, "
    "last_seen_at, current_job_id, previous_job_id";

std::vector<std::string> strings_from_json(const std::string& text, const char* column) {
  std::vector<std::string> out;
  auto document = json::parse(text);
  if (!document.is_array())
    throw Error{ErrorCode::internal, "An internal server error occurred.",
                std::string(column) + " is not a JSON array"};
  for (const auto& item : document.as_array())
    if (item.is_string()) out.emplace_back(item.get_string());
  return out;
}

std::string strings_json(const std::vector<std::string>& items) {
  return json::serialize(json::strings(items));
}

ProvisionerDaemonRow read_daemon(const Statement& q) {
  return ProvisionerDaemonRow{
      .id = q.uuid(0),
      .created_at = q.time(1),
      .organization_id = optional_uuid(q, 2),
      .name = q.text(3),
      .key_id = optional_uuid(q, 4),
      .tags = tags_from_json(q.text(5), "provisioner_daemons.tags"),
      .provisioners = strings_from_json(q.text(6), "provisioner_daemons.provisioners"),
      .version = q.text(7),
      .api_version = q.text(8),
      .last_seen_at = q.time(9),
      .current_job_id = optional_uuid(q, 10),
      .previous_job_id = optional_uuid(q, 11)};
}

}  // namespace

void SqliteStore::insert_provisioner_key(const ProvisionerKeyRow& r) {
  auto db = pool_.writer();
  Statement q(*db, std::string("INSERT INTO provisioner_keys (") + kKeyColumns +
                       ") VALUES (?, ?, ?, ?, ?, ?)");
  q.bind(1, r.id).bind(2, r.created_at).bind(3, r.organization_id).bind(4, r.name);
  q.bind(5, r.hashed_secret).bind(6, tags_json(r.tags)).run();
}

std::optional<ProvisionerKeyRow> SqliteStore::get_provisioner_key_by_hashed_secret(
    const std::string& hashed_secret) {
  auto db = pool_.reader();
  Statement q(*db, select_from(kKeyColumns, "provisioner_keys", "WHERE hashed_secret = ?"));
  q.bind(1, hashed_secret);
  return first<ProvisionerKeyRow>(q, read_key);
}

std::optional<ProvisionerKeyRow> SqliteStore::get_provisioner_key_by_name(
    const Uuid& organization_id, const std::string& name) {
  auto db = pool_.reader();
  Statement q(*db, select_from(kKeyColumns, "provisioner_keys",
                               "WHERE organization_id = ? AND lower(name) = lower(?)"));
  q.bind(1, organization_id).bind(2, name);
  return first<ProvisionerKeyRow>(q, read_key);
}

std::vector<ProvisionerKeyRow> SqliteStore::list_provisioner_keys_by_organization_id(
    const Uuid& organization_id) {
  auto db = pool_.reader();
  Statement q(*db, select_from(kKeyColumns, "provisioner_keys",
                               "WHERE organization_id = ? ORDER BY created_at, name"));
  q.bind(1, organization_id);
  return collect<ProvisionerKeyRow>(q, read_key);
}

bool SqliteStore::delete_provisioner_key_by_id(const Uuid& id) {
  auto db = pool_.writer();
  Statement q(*db, "DELETE FROM provisioner_keys WHERE id = ?");
  q.bind(1, id);
  return q.run() > 0;
}

void SqliteStore::upsert_provisioner_daemon(const ProvisionerDaemonRow& r) {
  auto db = pool_.writer();
  Statement q(*db, std::string("INSERT INTO provisioner_daemons (") + kDaemonColumns +
                       ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) "
                       "ON CONFLICT (id) DO UPDATE SET organization_id = excluded.organization_id, "
                       "name = excluded.name, key_id = excluded.key_id, tags = excluded.tags, "
                       "provisioners = excluded.provisioners, version = excluded.version, "
                       "api_version = excluded.api_version, last_seen_at = excluded.last_seen_at");
  q.bind(1, r.id).bind(2, r.created_at);
  bind_optional(q, 3, r.organization_id);
  q.bind(4, r.name);
  bind_optional(q, 5, r.key_id);
  q.bind(6, tags_json(r.tags)).bind(7, strings_json(r.provisioners)).bind(8, r.version);
  q.bind(9, r.api_version).bind(10, r.last_seen_at);
  bind_optional(q, 11, r.current_job_id);
  bind_optional(q, 12, r.previous_job_id);
  q.run();
}

void SqliteStore::delete_provisioner_daemons_by_name(const std::optional<Uuid>& organization_id,
                                                     const std::string& name,
                                                     const std::optional<Uuid>& key_id,
                                                     const Uuid& except_id) {
  auto db = pool_.writer();
  Statement q(*db,
              "DELETE FROM provisioner_daemons WHERE COALESCE(organization_id, '') = ? AND "
              "name = ? AND COALESCE(key_id, '') = ? AND id <> ? AND (current_job_id IS NULL OR "
              "NOT EXISTS (SELECT 1 FROM provisioner_jobs j WHERE j.id = current_job_id AND "
              "j.completed_at IS NULL))");
  q.bind(1, organization_id ? organization_id->to_string() : std::string());
  q.bind(2, name).bind(3, key_id ? key_id->to_string() : std::string()).bind(4, except_id).run();
}

void SqliteStore::delete_provisioner_daemons_by_key_id(const Uuid& key_id) {
  auto db = pool_.writer();
  Statement q(*db, "DELETE FROM provisioner_daemons WHERE key_id = ?");
  q.bind(1, key_id).run();
}

std::int64_t SqliteStore::delete_provisioner_daemons_seen_before(TimePoint before) {
  auto db = pool_.writer();
  Statement q(*db, "DELETE FROM provisioner_daemons WHERE last_seen_at < ?");
  q.bind(1, before);
  return q.run();
}

std::optional<ProvisionerDaemonRow> SqliteStore::get_provisioner_daemon_by_id(const Uuid& id) {
  auto db = pool_.reader();
  Statement q(*db, select_from(kDaemonColumns, "provisioner_daemons", "WHERE id = ?"));
  q.bind(1, id);
  return first<ProvisionerDaemonRow>(q, read_daemon);
}

std::vector<ProvisionerDaemonRow> SqliteStore::list_provisioner_daemons_by_organization_id(
    const Uuid& organization_id, std::int64_t limit) {
  auto db = pool_.reader();
  Statement q(*db, select_from(kDaemonColumns, "provisioner_daemons",
                               "WHERE organization_id = ? OR organization_id IS NULL "
                               "ORDER BY created_at, name LIMIT ?"));
  q.bind(1, organization_id).bind(2, limit > 0 ? limit : kNoLimit);
  return collect<ProvisionerDaemonRow>(q, read_daemon);
}

void SqliteStore::update_provisioner_daemon_last_seen_by_id(const Uuid& id, TimePoint now) {
  auto db = pool_.writer();
  Statement q(*db, "UPDATE provisioner_daemons SET last_seen_at = ? WHERE id = ?");
  q.bind(1, now).bind(2, id).run();
}

void SqliteStore::update_provisioner_daemon_current_job_by_id(const Uuid& id, const Uuid& job_id) {
  auto db = pool_.writer();
  // A current job that never ended here (its end was recorded before this row existed) is the
  // previous one all the same.
  Statement q(*db,
              "UPDATE provisioner_daemons SET previous_job_id = COALESCE(current_job_id, "
              "previous_job_id), current_job_id = ? WHERE id = ?");
  q.bind(1, job_id).bind(2, id).run();
}

void SqliteStore::update_provisioner_daemon_job_finished(const Uuid& job_id) {
  auto db = pool_.writer();
  Statement q(*db,
              "UPDATE provisioner_daemons SET previous_job_id = current_job_id, "
              "current_job_id = NULL WHERE current_job_id = ?");
  q.bind(1, job_id).run();
}

}  // namespace berth::store::sqlite
