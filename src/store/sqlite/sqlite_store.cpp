#include "store/sqlite/sqlite_store.hpp"

#include <algorithm>
#include <thread>

#include "common/error.hpp"
#include "common/json.hpp"
#include "store/sqlite/helpers.hpp"
#include "store/sqlite/migrations.hpp"
#include "store/sqlite/sqlite_database.hpp"

namespace berth::store::sqlite {

namespace {

std::string encode_list(const std::vector<std::string>& items) {
  return json::serialize(json::strings(items));
}

std::vector<std::string> decode_list(const std::string& text) {
  std::vector<std::string> out;
  auto parsed = json::parse(text);
  for (const auto& item : parsed.as_array()) out.emplace_back(item.as_string());
  return out;
}

constexpr const char* kUserColumns =
    "id, email, username, name, hashed_password, created_at, updated_at, status, rbac_roles, "
    "login_type, avatar_url, last_seen_at, deleted";

UserRow read_user(const Statement& q) {
  return UserRow{q.uuid(0),    q.text(1),  q.text(2),
                 q.text(3),    q.text(4),  q.time(5),
                 q.time(6),    q.text(7),  decode_list(q.text(8)),
                 q.text(9),    q.text(10), q.time(11),
                 q.boolean(12)};
}

constexpr const char* kOrganizationColumns =
    "id, name, display_name, description, icon, is_default, created_at, updated_at";

OrganizationRow read_organization(const Statement& q) {
  return OrganizationRow{q.uuid(0), q.text(1),    q.text(2), q.text(3),
                         q.text(4), q.boolean(5), q.time(6), q.time(7)};
}

constexpr const char* kMemberColumns = "organization_id, user_id, roles, created_at, updated_at";

OrganizationMemberRow read_member(const Statement& q) {
  return OrganizationMemberRow{q.uuid(0), q.uuid(1), decode_list(q.text(2)), q.time(3), q.time(4)};
}

constexpr const char* kApiKeyColumns =
    "id, hashed_secret, user_id, last_used, expires_at, created_at, updated_at, login_type, "
    "lifetime_seconds, ip_address, scope, token_name";

ApiKeyRow read_api_key(const Statement& q) {
  return ApiKeyRow{q.text(0), q.text(1), q.uuid(2),    q.time(3), q.time(4),  q.time(5),
                   q.time(6), q.text(7), q.integer(8), q.text(9), q.text(10), q.text(11)};
}

}  // namespace

namespace {

// Enough readers that a request never waits for a connection while the machine has cores to
// run it: more than the server's handler threads (2 per core) and its background workers.
std::size_t max_readers() {
  return std::clamp<std::size_t>(4 * std::thread::hardware_concurrency(), 8, 64);
}

std::unique_ptr<Database> open_writer(const std::string& path) {
  auto db = std::make_unique<SqliteDatabase>(path);
  db->exec("PRAGMA journal_mode = WAL");
  db->exec("PRAGMA synchronous = NORMAL");
  db->exec("PRAGMA foreign_keys = ON");
  db->exec("PRAGMA busy_timeout = 5000");
  // 64 MiB of page cache: listings join several tables that outgrow SQLite's 2 MiB default.
  db->exec("PRAGMA cache_size = -65536");
  migrate(*db);
  return db;
}

std::unique_ptr<Database> open_reader(const std::string& path) {
  auto db = std::make_unique<SqliteDatabase>(path);
  db->exec("PRAGMA busy_timeout = 5000");
  db->exec("PRAGMA query_only = 1");
  // Readers share the OS page cache; a small private cache each keeps idle memory low. (A
  // memory map saved nothing measurable once lists read ~limit rows, and it counts every
  // mapped page once per reader in the RSS.)
  db->exec("PRAGMA cache_size = -8192");
  return db;
}

}  // namespace

SqliteStore::SqliteStore(const std::string& path)
    : pool_(
          open_writer(path), [path] { return open_reader(path); }, max_readers()) {}

SqliteStore::SqliteStore(std::unique_ptr<Database> writer,
                         ConnectionPool::ReaderFactory open_reader)
    : pool_(std::move(writer), std::move(open_reader), max_readers()) {}

void SqliteStore::in_tx(const std::function<void(Store&)>& fn) {
  pool_.transaction([&] { fn(*this); });
}

void SqliteStore::in_read_tx(const std::function<void(Store&)>& fn) {
  pool_.read_transaction([&] { fn(*this); });
}

void SqliteStore::after_commit(std::function<void()> fn) {
  pool_.after_commit(std::move(fn));
}

std::optional<std::string> SqliteStore::get_site_config(const std::string& key) {
  auto db = pool_.reader();
  Statement q(*db, "SELECT value FROM site_configs WHERE key = ?");
  q.bind(1, key);
  return first<std::string>(q, [](const Statement& s) { return s.text(0); });
}

void SqliteStore::upsert_site_config(const std::string& key, const std::string& value) {
  auto db = pool_.writer();
  Statement q(*db,
              "INSERT INTO site_configs (key, value) VALUES (?, ?) "
              "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
  q.bind(1, key).bind(2, value).run();
}

// Users

void SqliteStore::insert_user(const UserRow& row) {
  auto db = pool_.writer();
  Statement q(*db,
              "INSERT INTO users (id, email, username, name, hashed_password, created_at, "
              "updated_at, status, rbac_roles, login_type, avatar_url, last_seen_at, deleted) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  q.bind(1, row.id).bind(2, row.email).bind(3, row.username).bind(4, row.name);
  q.bind(5, row.hashed_password).bind(6, row.created_at).bind(7, row.updated_at);
  q.bind(8, row.status).bind(9, encode_list(row.rbac_roles)).bind(10, row.login_type);
  q.bind(11, row.avatar_url).bind(12, row.last_seen_at).bind(13, row.deleted);
  q.run();
}

std::optional<UserRow> SqliteStore::get_user_by_id(const Uuid& id) {
  auto db = pool_.reader();
  Statement q(*db, select_from(kUserColumns, "users", "WHERE id = ?"));
  q.bind(1, id);
  return first<UserRow>(q, read_user);
}

std::vector<UserRow> SqliteStore::list_users_by_ids(const std::vector<Uuid>& ids) {
  auto db = pool_.reader();
  return collect_by_ids<UserRow>(
      *db, select_from(kUserColumns, "users", std::string("WHERE id ") + in_ids(*db)), ids,
      read_user);
}

std::optional<UserRow> SqliteStore::get_user_by_username(const std::string& username) {
  auto db = pool_.reader();
  Statement q(
      *db, select_from(kUserColumns, "users", "WHERE lower(username) = lower(?) AND deleted = 0"));
  q.bind(1, username);
  return first<UserRow>(q, read_user);
}

std::optional<UserRow> SqliteStore::get_user_by_email(const std::string& email) {
  auto db = pool_.reader();
  Statement q(*db,
              select_from(kUserColumns, "users", "WHERE lower(email) = lower(?) AND deleted = 0"));
  q.bind(1, email);
  return first<UserRow>(q, read_user);
}

std::int64_t SqliteStore::count_users() {
  auto db = pool_.reader();
  Statement q(*db, "SELECT COUNT(*) FROM users WHERE deleted = 0");
  q.step();
  return q.integer(0);
}

UserPage SqliteStore::list_users(const ListUsersParams& p) {
  auto db = pool_.reader();
  // Every filter is bound; an empty filter list disables its clause. The JSON arrays let one
  // prepared statement take any number of values.
  std::string where =
      "WHERE deleted = 0"
      " AND (?1 = '' OR instr(lower(username), lower(?1)) > 0 OR instr(lower(email), lower(?1)) "
      "> 0)"
      " AND (?2 = '[]' OR status IN (SELECT value FROM json_each(?2)))"
      " AND (?3 = '[]' OR EXISTS (SELECT 1 FROM json_each(rbac_roles) r WHERE r.value IN "
      "(SELECT value FROM json_each(?3))) OR ('member' IN (SELECT value FROM json_each(?3))))"
      " AND (?4 = '[]' OR login_type IN (SELECT value FROM json_each(?4)))"
      " AND (?8 = '' OR instr(lower(name), lower(?8)) > 0)"
      // Compared before tested for NULL: PostgreSQL types a parameter by its first use.
      " AND (created_at > ?9 OR ?9 IS NULL) AND (created_at < ?10 OR ?10 IS NULL)"
      " AND (last_seen_at > ?11 OR ?11 IS NULL) AND (last_seen_at < ?12 OR ?12 IS NULL)"
      " AND ?13 = 0";
  auto bind_time = [](Statement& q, int index, const std::optional<TimePoint>& t) {
    if (t)
      q.bind(index, *t);
    else
      q.bind_null(index);
  };
  auto bind_filters = [&](Statement& q) {
    q.bind(1, p.search).bind(2, encode_list(p.statuses)).bind(3, encode_list(p.rbac_roles));
    q.bind(4, encode_list(p.login_types)).bind(8, p.name);
    bind_time(q, 9, p.created_after);
    bind_time(q, 10, p.created_before);
    bind_time(q, 11, p.last_seen_after);
    bind_time(q, 12, p.last_seen_before);
    q.bind(13, p.match_none);
  };
  UserPage page;
  {
    Statement count(*db, "SELECT COUNT(*) FROM users " + where);
    bind_filters(count);
    count.step();
    page.count = count.integer(0);
  }
  std::string rest = where;
  if (p.after_id)
    rest += " AND lower(username) > (SELECT lower(username) FROM users WHERE id = ?5)";
  rest += " ORDER BY lower(username) ASC LIMIT ?6 OFFSET ?7";
  Statement q(*db, select_from(kUserColumns, "users", rest));
  bind_filters(q);
  if (p.after_id) q.bind(5, *p.after_id);
  q.bind(6, p.limit > 0 ? p.limit : kNoLimit).bind(7, p.offset);
  page.users = collect<UserRow>(q, read_user);
  return page;
}

void SqliteStore::update_user_roles_by_id(const Uuid& id, const std::vector<std::string>& roles,
                                          TimePoint updated_at) {
  auto db = pool_.writer();
  Statement q(*db, "UPDATE users SET rbac_roles = ?, updated_at = ? WHERE id = ?");
  q.bind(1, encode_list(roles)).bind(2, updated_at).bind(3, id).run();
}

void SqliteStore::update_user_last_seen_at_by_id(const Uuid& id, TimePoint last_seen_at) {
  auto db = pool_.writer();
  Statement q(*db, "UPDATE users SET last_seen_at = ? WHERE id = ?");
  q.bind(1, last_seen_at).bind(2, id).run();
}

void SqliteStore::update_user_status_by_id(const Uuid& id, const std::string& status,
                                           TimePoint updated_at) {
  auto db = pool_.writer();
  Statement q(*db, "UPDATE users SET status = ?, updated_at = ? WHERE id = ?");
  q.bind(1, status).bind(2, updated_at).bind(3, id).run();
}

void SqliteStore::update_user_deleted_by_id(const Uuid& id, TimePoint updated_at) {
  pool_.transaction([&] {
    auto db = pool_.writer();
    Statement user(*db, "UPDATE users SET deleted = 1, updated_at = ? WHERE id = ?");
    user.bind(1, updated_at).bind(2, id).run();
    Statement keys(*db, "DELETE FROM api_keys WHERE user_id = ?");
    keys.bind(1, id).run();
    Statement members(*db, "DELETE FROM organization_members WHERE user_id = ?");
    members.bind(1, id).run();
  });
}

std::string SqliteStore::get_user_quiet_hours_schedule(const Uuid& id) {
  auto db = pool_.reader();
  Statement q(*db, "SELECT quiet_hours_schedule FROM users WHERE id = ?");
  q.bind(1, id);
  return q.step() ? q.text(0) : std::string();
}

void SqliteStore::update_user_quiet_hours_schedule(const Uuid& id, const std::string& schedule,
                                                   TimePoint updated_at) {
  auto db = pool_.writer();
  Statement q(*db, "UPDATE users SET quiet_hours_schedule = ?, updated_at = ? WHERE id = ?");
  q.bind(1, schedule).bind(2, updated_at).bind(3, id).run();
}

// Organizations

void SqliteStore::insert_organization(const OrganizationRow& row) {
  auto db = pool_.writer();
  Statement q(*db,
              "INSERT INTO organizations (id, name, display_name, description, icon, is_default, "
              "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  q.bind(1, row.id).bind(2, row.name).bind(3, row.display_name).bind(4, row.description);
  q.bind(5, row.icon).bind(6, row.is_default).bind(7, row.created_at).bind(8, row.updated_at);
  q.run();
}

std::optional<OrganizationRow> SqliteStore::get_organization_by_id(const Uuid& id) {
  auto db = pool_.reader();
  Statement q(*db, select_from(kOrganizationColumns, "organizations", "WHERE id = ?"));
  q.bind(1, id);
  return first<OrganizationRow>(q, read_organization);
}

std::optional<OrganizationRow> SqliteStore::get_organization_by_name(const std::string& name) {
  auto db = pool_.reader();
  Statement q(*db,
              select_from(kOrganizationColumns, "organizations", "WHERE lower(name) = lower(?)"));
  q.bind(1, name);
  return first<OrganizationRow>(q, read_organization);
}

std::optional<OrganizationRow> SqliteStore::get_default_organization() {
  auto db = pool_.reader();
  Statement q(*db, select_from(kOrganizationColumns, "organizations", "WHERE is_default = 1"));
  return first<OrganizationRow>(q, read_organization);
}

std::vector<OrganizationRow> SqliteStore::list_organizations() {
  auto db = pool_.reader();
  Statement q(*db, select_from(kOrganizationColumns, "organizations", "ORDER BY created_at, name"));
  return collect<OrganizationRow>(q, read_organization);
}

std::vector<OrganizationRow> SqliteStore::list_organizations_by_user_id(const Uuid& user_id) {
  auto db = pool_.reader();
  Statement q(*db, select_from(kOrganizationColumns, "organizations",
                               "WHERE id IN (SELECT organization_id FROM organization_members "
                               "WHERE user_id = ?) ORDER BY created_at, name"));
  q.bind(1, user_id);
  return collect<OrganizationRow>(q, read_organization);
}

// Organization members

void SqliteStore::insert_organization_member(const OrganizationMemberRow& row) {
  auto db = pool_.writer();
  Statement q(*db,
              "INSERT INTO organization_members (organization_id, user_id, roles, created_at, "
              "updated_at) VALUES (?, ?, ?, ?, ?)");
  q.bind(1, row.organization_id).bind(2, row.user_id).bind(3, encode_list(row.roles));
  q.bind(4, row.created_at).bind(5, row.updated_at).run();
}

std::vector<OrganizationMemberRow> SqliteStore::list_organization_members_by_organization_id(
    const Uuid& organization_id) {
  auto db = pool_.reader();
  Statement q(*db, select_from(kMemberColumns, "organization_members",
                               "WHERE organization_id = ? ORDER BY created_at, user_id"));
  q.bind(1, organization_id);
  return collect<OrganizationMemberRow>(q, read_member);
}

std::vector<OrganizationMemberRow> SqliteStore::list_organization_members_by_user_id(
    const Uuid& user_id) {
  auto db = pool_.reader();
  Statement q(*db, select_from(kMemberColumns, "organization_members",
                               "WHERE user_id = ? ORDER BY created_at, organization_id"));
  q.bind(1, user_id);
  return collect<OrganizationMemberRow>(q, read_member);
}

// API keys

void SqliteStore::insert_api_key(const ApiKeyRow& row) {
  auto db = pool_.writer();
  Statement q(*db,
              "INSERT INTO api_keys (id, hashed_secret, user_id, last_used, expires_at, "
              "created_at, updated_at, login_type, lifetime_seconds, ip_address, scope, "
              "token_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  q.bind(1, row.id).bind_blob(2, row.hashed_secret).bind(3, row.user_id).bind(4, row.last_used);
  q.bind(5, row.expires_at).bind(6, row.created_at).bind(7, row.updated_at);
  q.bind(8, row.login_type).bind(9, row.lifetime_seconds).bind(10, row.ip_address);
  q.bind(11, row.scope).bind(12, row.token_name).run();
}

std::optional<ApiKeyRow> SqliteStore::get_api_key_by_id(const std::string& id) {
  auto db = pool_.reader();
  Statement q(*db, select_from(kApiKeyColumns, "api_keys", "WHERE id = ?"));
  q.bind(1, id);
  return first<ApiKeyRow>(q, read_api_key);
}

std::optional<ApiKeyRow> SqliteStore::get_api_key_by_name(const Uuid& user_id,
                                                          const std::string& token_name) {
  auto db = pool_.reader();
  Statement q(*db, select_from(kApiKeyColumns, "api_keys", "WHERE user_id = ? AND token_name = ?"));
  q.bind(1, user_id).bind(2, token_name);
  return first<ApiKeyRow>(q, read_api_key);
}

std::vector<ApiKeyRow> SqliteStore::list_api_keys_by_user_id_and_login_type(
    const Uuid& user_id, const std::string& login_type) {
  auto db = pool_.reader();
  Statement q(*db, select_from(kApiKeyColumns, "api_keys",
                               "WHERE user_id = ? AND login_type = ? ORDER BY created_at, id"));
  q.bind(1, user_id).bind(2, login_type);
  return collect<ApiKeyRow>(q, read_api_key);
}

std::vector<ApiKeyRow> SqliteStore::list_api_keys_by_login_type(const std::string& login_type) {
  auto db = pool_.reader();
  Statement q(
      *db, select_from(kApiKeyColumns, "api_keys", "WHERE login_type = ? ORDER BY created_at, id"));
  q.bind(1, login_type);
  return collect<ApiKeyRow>(q, read_api_key);
}

void SqliteStore::update_api_key_usage_by_id(const std::string& id, TimePoint last_used,
                                             TimePoint expires_at, const std::string& ip_address) {
  auto db = pool_.writer();
  Statement q(*db,
              "UPDATE api_keys SET last_used = ?, expires_at = ?, ip_address = ?, updated_at = ? "
              "WHERE id = ?");
  q.bind(1, last_used).bind(2, expires_at).bind(3, ip_address).bind(4, last_used).bind(5, id);
  q.run();
}

bool SqliteStore::delete_api_key_by_id(const std::string& id) {
  auto db = pool_.writer();
  Statement q(*db, "DELETE FROM api_keys WHERE id = ?");
  q.bind(1, id);
  return q.run() > 0;
}

// Leases

bool SqliteStore::try_acquire_lease(const std::string& name, const std::string& holder,
                                    TimePoint now, TimePoint expires_at) {
  auto db = pool_.writer();
  // One statement: insert, or take over a lease that expired or is already ours.
  Statement q(*db,
              "INSERT INTO leases (name, holder, expires_at) VALUES (?1, ?2, ?4) "
              "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = "
              "excluded.expires_at WHERE leases.holder = ?2 OR leases.expires_at <= ?3");
  q.bind(1, name).bind(2, holder).bind(3, now).bind(4, expires_at);
  return q.run() > 0;
}

void SqliteStore::release_lease(const std::string& name, const std::string& holder) {
  auto db = pool_.writer();
  Statement q(*db, "DELETE FROM leases WHERE name = ? AND holder = ?");
  q.bind(1, name).bind(2, holder).run();
}

}  // namespace berth::store::sqlite
