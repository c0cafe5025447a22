#include "store/sqlite/migrations.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "common/error.hpp"
#include "store/sqlite/sqlite_database.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "support/temp_dir.hpp"

namespace berth::store::sqlite {
namespace {

void exec_raw(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
}

TEST(SqliteMigrations, AppliesEveryMigrationOnceAndIsIdempotent) {
  testing::TempDir dir;
  auto path = dir.file("berth.db");
  { SqliteStore store(path); }
  { SqliteStore store(path); }
  SqliteDatabase db(path);
  Statement q(db, "SELECT COUNT(*), MAX(version) FROM schema_migrations");
  ASSERT_TRUE(q.step());
  EXPECT_EQ(q.integer(0), latest_schema_version());
  EXPECT_EQ(q.integer(1), latest_schema_version());
}

TEST(SqliteMigrations, RefusesADatabaseFromANewerVersion) {
  testing::TempDir dir;
  auto path = dir.file("berth.db");
  { SqliteStore store(path); }
  exec_raw(path, "INSERT INTO schema_migrations (version) VALUES (" +
                     std::to_string(latest_schema_version() + 5) + ")");
  try {
    SqliteStore store(path);
    FAIL() << "newer schema accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unavailable);
    EXPECT_NE(e.message().find("newer version of Berth"), std::string::npos) << e.message();
  }
}

// A database the previous release wrote (schema 11: before agent connections, provisioner keys
// and daemons) upgrades in place and keeps its rows.
TEST(SqliteMigrations, UpgradesADatabaseOfThePreviousReleaseKeepingItsRows) {
  testing::TempDir dir;
  auto path = dir.file("berth.db");
  auto replica = Uuid::random_v4();
  {
    SqliteDatabase db(path);
    migrate(db, 11);
    Statement version(db, "SELECT MAX(version) FROM schema_migrations");
    ASSERT_TRUE(version.step());
    EXPECT_EQ(version.integer(0), 11);
    Statement insert(db,
                     "INSERT INTO replicas (id, hostname, relay_address, started_at, updated_at) "
                     "VALUES (?, 'old-host', 'http://10.0.0.1:3000', 1, 2)");
    insert.bind(1, replica).run();
  }
  SqliteStore store(path);  // migrates the rest
  auto kept = store.get_replica_by_id(replica);
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->hostname, "old-host");
  auto agent = Uuid::random_v4();
  store.upsert_agent_connection(agent, replica, from_unix_micros(3));
  EXPECT_EQ(store.get_agent_connection_replica(agent, from_unix_micros(0))->id, replica);
}

TEST(SqliteMigrations, TurnsOnWalAndForeignKeys) {
  testing::TempDir dir;
  auto path = dir.file("berth.db");
  SqliteStore store(path);
  SqliteDatabase db(path);
  Statement q(db, "PRAGMA journal_mode");
  ASSERT_TRUE(q.step());
  EXPECT_EQ(q.text(0), "wal");
  // Foreign keys are per connection: check the store enforces them by breaking one.
  ApiKeyRow key{"kkkkkkkkkk", "h", Uuid::random_v4(), {}, {}, {}, {}, "password", 1, "", "all", ""};
  EXPECT_THROW(store.insert_api_key(key), Error);
}

}  // namespace
}  // namespace berth::store::sqlite
