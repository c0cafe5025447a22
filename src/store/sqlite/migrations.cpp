#include "store/sqlite/migrations.hpp"

#include <fmt/format.h>

#include <array>

#include "common/error.hpp"

namespace berth::store::sqlite {

namespace {

// Times are INTEGER microseconds since the Unix epoch (UTC); UUIDs are canonical TEXT.
constexpr const char* kMigration1 = R"sql(
CREATE TABLE site_configs (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE users (
  id TEXT PRIMARY KEY,
  email TEXT NOT NULL,
  username TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  hashed_password TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  status TEXT NOT NULL,
  rbac_roles TEXT NOT NULL DEFAULT '[]',
  login_type TEXT NOT NULL,
  avatar_url TEXT NOT NULL DEFAULT '',
  last_seen_at INTEGER NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX users_username_lower_idx ON users (lower(username)) WHERE deleted = 0;
CREATE UNIQUE INDEX users_email_lower_idx ON users (lower(email)) WHERE deleted = 0;

CREATE TABLE organizations (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  display_name TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  icon TEXT NOT NULL DEFAULT '',
  is_default INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX organizations_name_lower_idx ON organizations (lower(name));
CREATE UNIQUE INDEX organizations_single_default_idx ON organizations (is_default) WHERE is_default = 1;

CREATE TABLE organization_members (
  organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  roles TEXT NOT NULL DEFAULT '[]',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (organization_id, user_id)
);
CREATE INDEX organization_members_user_idx ON organization_members (user_id);

CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  hashed_secret BLOB NOT NULL,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  last_used INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  login_type TEXT NOT NULL,
  lifetime_seconds INTEGER NOT NULL,
  ip_address TEXT NOT NULL DEFAULT '',
  scope TEXT NOT NULL DEFAULT 'all',
  token_name TEXT NOT NULL DEFAULT ''
);
CREATE INDEX api_keys_user_idx ON api_keys (user_id);
CREATE UNIQUE INDEX api_keys_user_token_name_idx ON api_keys (user_id, token_name) WHERE token_name <> '';
)sql";

constexpr std::array kMigrations = {kMigration1};

int current_version(Database& db) {
  db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)");
  Statement q(db, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  q.step();
  return int(q.integer(0));
}

void apply(Database& db, int version, const char* sql) {
  db.exec("BEGIN IMMEDIATE");
  try {
    db.exec(sql);
    Statement q(db, "INSERT INTO schema_migrations (version) VALUES (?)");
    q.bind(1, std::int64_t(version)).run();
    db.exec("COMMIT");
  } catch (...) {
    db.exec("ROLLBACK");
    throw;
  }
}

}  // namespace

int latest_schema_version() {
  return int(kMigrations.size());
}

void migrate(Database& db) {
  int version = current_version(db);
  if (version > latest_schema_version())
    throw Error{ErrorCode::unavailable,
                fmt::format("The database was written by a newer version of Berth (schema version "
                            "{}); this binary supports up to schema version {}. Upgrade Berth.",
                            version, latest_schema_version())};
  for (int v = version + 1; v <= latest_schema_version(); ++v) apply(db, v, kMigrations[v - 1]);
}

}  // namespace berth::store::sqlite
