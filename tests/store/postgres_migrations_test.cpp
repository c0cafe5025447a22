#include "store/postgres/migrations.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/error.hpp"
#include "store/postgres/postgres_database.hpp"
#include "store/sqlite/migrations.hpp"
#include "store/sqlite/sqlite_database.hpp"
#include "support/postgres_suite.hpp"
#include "support/temp_dir.hpp"

namespace berth::store::postgres {
namespace {

using sqlite::Database;
using sqlite::Statement;

// The rows `sql` answers, each as its first `columns` columns joined by '|' (NULL as "NULL"),
// read through the engine-neutral Database so that both engines can be compared.
std::vector<std::string> rows(Database& db, const std::string& sql, int columns,
                              const std::vector<std::string>& binds = {}) {
  Statement q(db, sql);
  for (std::size_t i = 0; i < binds.size(); ++i) q.bind(int(i) + 1, binds[i]);
  std::vector<std::string> out;
  while (q.step()) {
    std::string row;
    for (int c = 0; c < columns; ++c) {
      if (c > 0) row += '|';
      row += q.is_null(c) ? "NULL" : q.text(c);
    }
    out.push_back(row);
  }
  return out;
}

// A column's default as both engines' catalogs spell it: 'never', '[]'::text, '\x'::bytea, 0.
std::string normalize_default(const std::string& text) {
  if (text.empty() || text.front() != '\'') return text;
  auto inner = text.substr(1, text.rfind('\'') - 1);
  return inner == "\\x" ? std::string() : inner;
}

// Each column of `table` as "name|not null|default", in order; SQLite's hidden rowid left out.
std::vector<std::string> columns(Database& db, const std::string& sql, const std::string& table) {
  std::vector<std::string> out;
  for (const auto& row : rows(db, sql, 3, {table})) {
    auto first = row.find('|');
    auto second = row.find('|', first + 1);
    out.push_back(row.substr(0, second + 1) + normalize_default(row.substr(second + 1)));
  }
  return out;
}

// The advisory locks held in the current database.
constexpr const char* kAdvisoryLocks =
    "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND "
    "database = (SELECT oid FROM pg_database WHERE datname = current_database())";

std::int64_t integer(Database& db, const std::string& sql) {
  Statement q(db, sql);
  EXPECT_TRUE(q.step()) << sql;
  auto value = q.integer(0);
  while (q.step()) {
  }
  return value;
}

// A migrated SQLite database, to hold the PostgreSQL schema against.
class SqliteReference {
 public:
  SqliteReference() : db_(dir_.file("berth.db")) {
    db_.exec("PRAGMA foreign_keys = ON");
    sqlite::migrate(db_);
  }
  Database& db() { return db_; }

 private:
  testing::TempDir dir_;
  sqlite::SqliteDatabase db_;
};

// Each test gets a database of its own on one server for the suite.
class PostgresMigrationsTest : public testing::PostgresSuite {
 protected:
  PostgresMigrationsTest() : PostgresSuite("migrations_") {}

  void SetUp() override {
    PostgresSuite::SetUp();
    if (HasFatalFailure()) return;
    db_ = std::make_unique<PostgresDatabase>(url());
  }

  std::unique_ptr<PostgresDatabase> db_;
};

TEST(PostgresSchemaVersion, IsSqlites) {
  EXPECT_EQ(latest_schema_version(), sqlite::latest_schema_version());
  EXPECT_EQ(latest_schema_version(), 13);
}

TEST_F(PostgresMigrationsTest, MigratesAnEmptyDatabase) {
  postgres::migrate(*db_);
  EXPECT_EQ(rows(*db_, "SELECT COUNT(*), MAX(version) FROM schema_migrations", 2),
            std::vector<std::string>{"13|13"});
}

// A database the previous release wrote (schema 11) upgrades in place and keeps its rows.
TEST_F(PostgresMigrationsTest, UpgradesADatabaseOfThePreviousReleaseKeepingItsRows) {
  postgres::migrate(*db_, 11);
  EXPECT_EQ(integer(*db_, "SELECT MAX(version) FROM schema_migrations"), 11);
  EXPECT_EQ(integer(*db_, "SELECT COUNT(*) FROM pg_tables WHERE tablename = 'agent_connections'"),
            0);
  db_->exec(
      "INSERT INTO replicas (id, hostname, relay_address, started_at, updated_at) VALUES "
      "('8b0c7f7e-0000-4000-8000-000000000001', 'old-host', 'http://10.0.0.1:3000', 1, 2)");
  postgres::migrate(*db_);
  EXPECT_EQ(integer(*db_, "SELECT MAX(version) FROM schema_migrations"), latest_schema_version());
  EXPECT_EQ(rows(*db_, "SELECT hostname, relay_address FROM replicas", 2),
            std::vector<std::string>{"old-host|http://10.0.0.1:3000"});
  db_->exec(
      "INSERT INTO agent_connections (agent_id, replica_id, connected_at) VALUES "
      "('8b0c7f7e-0000-4000-8000-000000000002', '8b0c7f7e-0000-4000-8000-000000000001', 3)");
  EXPECT_EQ(integer(*db_,
                    "SELECT COUNT(*) FROM agent_connections a JOIN replicas r ON "
                    "r.id = a.replica_id"),
            1);
}

TEST_F(PostgresMigrationsTest, MigratingAgainIsANoOp) {
  postgres::migrate(*db_);
  postgres::migrate(*db_);
  PostgresDatabase other(url());
  postgres::migrate(other);
  EXPECT_EQ(integer(*db_, "SELECT COUNT(*) FROM schema_migrations"), latest_schema_version());
  // The advisory lock was given back each time.
  EXPECT_EQ(integer(*db_, kAdvisoryLocks), 0);
}

TEST_F(PostgresMigrationsTest, ReplicasMigratingTogetherApplyEachMigrationOnce) {
  constexpr int kReplicas = 4;
  std::vector<std::unique_ptr<PostgresDatabase>> connections;
  for (int i = 0; i < kReplicas; ++i)
    connections.push_back(std::make_unique<PostgresDatabase>(url()));
  std::atomic<int> ready = 0;
  std::atomic<int> failures = 0;
  std::vector<std::string> errors(kReplicas);
  std::vector<std::thread> threads;
  for (int i = 0; i < kReplicas; ++i)
    threads.emplace_back([&, i] {
      ++ready;
      while (ready < kReplicas) std::this_thread::yield();
      try {
        postgres::migrate(*connections[i]);
      } catch (const Error& e) {
        ++failures;
        errors[i] = e.message() + " " + e.detail();
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures, 0) << errors[0] << errors[1] << errors[2] << errors[3];
  EXPECT_EQ(rows(*db_, "SELECT COUNT(*), MAX(version) FROM schema_migrations", 2),
            std::vector<std::string>{"13|13"});
}

TEST_F(PostgresMigrationsTest, RefusesADatabaseFromANewerVersion) {
  postgres::migrate(*db_);
  db_->exec(("INSERT INTO schema_migrations (version) VALUES (" +
             std::to_string(latest_schema_version() + 5) + ")")
                .c_str());
  try {
    postgres::migrate(*db_);
    FAIL() << "newer schema accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unavailable);
    EXPECT_NE(e.message().find("newer version of Berth"), std::string::npos) << e.message();
  }
  // The lock went back although migrate threw: another replica would not wait forever.
  PostgresDatabase other(url());
  EXPECT_EQ(integer(other, kAdvisoryLocks), 0);
}

TEST_F(PostgresMigrationsTest, HasSqlitesTablesColumnsIndexesAndTriggers) {
  postgres::migrate(*db_);
  SqliteReference sqlite;
  auto sqlite_tables =
      rows(sqlite.db(),
           "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
           "ORDER BY name",
           1);
  EXPECT_EQ(rows(*db_,
                 "SELECT table_name FROM information_schema.tables "
                 "WHERE table_schema = current_schema() ORDER BY table_name COLLATE \"C\"",
                 1),
            sqlite_tables);
  for (const auto& table : sqlite_tables) {
    // Same columns, in the same order; the `rowid` some tables add is SQLite's hidden one.
    EXPECT_EQ(rows(*db_,
                   "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                   "current_schema() AND table_name = ? AND column_name <> 'rowid' "
                   "ORDER BY ordinal_position",
                   1, {table}),
              rows(sqlite.db(), "SELECT name FROM pragma_table_info(?) ORDER BY cid", 1, {table}))
        << table;
    // NOT NULL (a primary key's columns are, though SQLite lets a TEXT one be NULL) and
    // defaults alike.
    EXPECT_EQ(columns(*db_,
                      "SELECT column_name, CASE WHEN is_nullable = 'NO' THEN 1 ELSE 0 END, "
                      "COALESCE(column_default, 'NULL') FROM information_schema.columns "
                      "WHERE table_schema = current_schema() AND table_name = ? "
                      "AND column_name <> 'rowid' ORDER BY ordinal_position",
                      table),
              columns(sqlite.db(),
                      "SELECT name, CASE WHEN \"notnull\" OR pk > 0 THEN 1 ELSE 0 END, "
                      "COALESCE(dflt_value, 'NULL') FROM pragma_table_info(?) ORDER BY cid",
                      table))
        << table;
  }
  // Every index SQLite has by name (its automatic ones are PostgreSQL's constraint indexes).
  auto pg_indexes = rows(*db_,
                         "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
                         "AND indexname NOT LIKE '%_pkey' ORDER BY indexname COLLATE \"C\"",
                         1);
  EXPECT_EQ(pg_indexes, rows(sqlite.db(),
                             "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT "
                             "LIKE 'sqlite_autoindex_%' ORDER BY name",
                             1));
  EXPECT_EQ(
      rows(*db_,
           "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY tgname COLLATE \"C\"", 1),
      rows(sqlite.db(), "SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name", 1));
}

TEST_F(PostgresMigrationsTest, TextComparesByBytesAsInSqlite) {
  postgres::migrate(*db_);
  EXPECT_EQ(rows(*db_,
                 "SELECT table_name || '.' || column_name FROM information_schema.columns "
                 "WHERE table_schema = current_schema() AND data_type = 'text' "
                 "AND table_name <> 'schema_migrations' AND collation_name IS DISTINCT FROM 'C'",
                 1),
            std::vector<std::string>{});
}

// Rows the triggers and the store's orderings touch, written and read with the same SQL on both
// engines: the answers must be the same, and the ones SQLite's triggers give.
std::vector<std::string> run_trigger_scenario(Database& db) {
  std::vector<std::string> out;
  auto read = [&](const std::string& label, const std::string& sql, int columns) {
    for (const auto& row : rows(db, sql, columns)) out.push_back(label + ": " + row);
  };
  auto workspaces = [&](const std::string& label) {
    read(label,
         "SELECT id, owner_username, COALESCE(latest_build_id, 'NULL'), running, deleted "
         "FROM workspaces ORDER BY id",
         5);
    read(label, "SELECT live FROM workspace_counts WHERE id = 1", 1);
  };
  db.exec(R"sql(
INSERT INTO users (id, email, username, created_at, updated_at, status, login_type, last_seen_at)
  VALUES ('u1', 'a@x', 'alice', 0, 0, 'active', 'password', 0),
         ('u2', 'b@x', 'Bob', 0, 0, 'active', 'password', 0);
INSERT INTO organizations (id, name, is_default, created_at, updated_at) VALUES ('o1', 'org', 1, 0, 0);
INSERT INTO files (id, hash, created_by, created_at, mimetype, data)
  VALUES ('f1', 'h', 'u1', 0, 'application/x-tar', '');
INSERT INTO provisioner_jobs (id, created_at, updated_at, organization_id, initiator_id,
  provisioner, storage_method, type, file_id, input, tags) VALUES
  ('j0', 0, 0, 'o1', 'u1', 'echo', 'file', 'template_version_import', 'f1', '{}', '{}'),
  ('j1', 1, 1, 'o1', 'u1', 'echo', 'file', 'workspace_build', 'f1', '{}', '{}'),
  ('j2', 2, 2, 'o1', 'u1', 'echo', 'file', 'workspace_build', 'f1', '{}', '{}'),
  ('j3', 3, 3, 'o1', 'u1', 'echo', 'file', 'workspace_build', 'f1', '{}', '{}'),
  ('j4', 4, 4, 'o1', 'u1', 'echo', 'file', 'workspace_build', 'f1', '{}', '{}');
INSERT INTO templates (id, organization_id, name, provisioner, active_version_id, created_by,
  created_at, updated_at, policy) VALUES ('t1', 'o1', 'tpl', 'echo', 'v1', 'u1', 0, 0, '{}');
INSERT INTO template_versions (id, template_id, organization_id, name, job_id, created_by,
  created_at, updated_at) VALUES ('v1', 't1', 'o1', 'v', 'j0', 'u1', 0, 0);
INSERT INTO workspaces (id, created_at, updated_at, owner_id, organization_id, template_id, name,
  last_used_at) VALUES ('w1', 0, 0, 'u1', 'o1', 't1', 'one', 0),
                       ('w2', 0, 0, 'u2', 'o1', 't1', 'two', 0),
                       ('w3', 0, 0, 'u2', 'o1', 't1', 'three', 0);
)sql");
  workspaces("inserted");
  auto build = [&](const char* id, const char* workspace, int number, const char* transition,
                   const char* job) {
    Statement q(db,
                "INSERT INTO workspace_builds (id, created_at, updated_at, workspace_id, "
                "template_version_id, build_number, transition, initiator_id, job_id) "
                "VALUES (?, 0, 0, ?, 'v1', ?, ?, 'u1', ?)");
    q.bind(1, std::string_view(id)).bind(2, std::string_view(workspace));
    q.bind(3, std::int64_t(number)).bind(4, std::string_view(transition));
    q.bind(5, std::string_view(job)).run();
  };
  build("b1", "w1", 1, "start", "j1");
  workspaces("first build, pending");
  db.exec("UPDATE provisioner_jobs SET started_at = 5 WHERE id = 'j1'");
  workspaces("started");
  db.exec("UPDATE provisioner_jobs SET completed_at = 6 WHERE id = 'j1'");
  workspaces("start succeeded");
  build("b3", "w1", 3, "stop", "j3");
  workspaces("stop queued");
  build("b2", "w1", 2, "start", "j4");  // an older number after a newer one: not the latest
  workspaces("older build");
  db.exec("UPDATE provisioner_jobs SET completed_at = 7 WHERE id = 'j4'");
  workspaces("older build's job done");
  build("b4", "w2", 1, "start", "j2");
  db.exec("UPDATE provisioner_jobs SET completed_at = 8, error = 'boom' WHERE id = 'j2'");
  workspaces("start failed");
  db.exec("UPDATE provisioner_jobs SET error = '' WHERE id = 'j2'");
  workspaces("error cleared");
  db.exec("UPDATE provisioner_jobs SET canceled_at = 9 WHERE id = 'j2'");
  workspaces("canceled");
  db.exec("UPDATE users SET username = 'Robert' WHERE id = 'u2'");
  db.exec("UPDATE users SET status = 'suspended' WHERE id = 'u1'");
  workspaces("renamed owner");
  db.exec("UPDATE workspaces SET deleted = 1 WHERE id = 'w3'");
  db.exec("UPDATE workspaces SET deleted = 1 WHERE id = 'w3'");
  db.exec("UPDATE workspaces SET name = 'drei' WHERE id = 'w3'");
  workspaces("deleted");
  db.exec("UPDATE workspaces SET deleted = 0 WHERE id = 'w3'");
  workspaces("undeleted");
  db.exec(R"sql(
INSERT INTO workspaces (id, created_at, updated_at, owner_id, organization_id, template_id, name,
  last_used_at, deleted) VALUES ('w4', 0, 0, 'u1', 'o1', 't1', 'four', 0, 1),
                                ('w5', 0, 0, 'u1', 'o1', 't1', 'five', 0, 0);
)sql");
  workspaces("inserted more");
  db.exec("DELETE FROM workspaces WHERE id IN ('w4', 'w5')");
  workspaces("removed");

  // Insertion order through the `rowid` that PostgreSQL's tables spell out.
  db.exec(R"sql(
INSERT INTO workspace_build_parameters (workspace_build_id, name, value)
  VALUES ('b1', 'zeta', '1'), ('b1', 'alpha', '2'), ('b1', 'Mid', '3');
)sql");
  read("parameters", "SELECT name FROM workspace_build_parameters ORDER BY rowid", 1);
  // Byte order, not a locale's.
  read("names", "SELECT name FROM workspace_build_parameters ORDER BY name", 1);
  read("ids",
       "INSERT INTO provisioner_job_logs (job_id, created_at, source, level, stage, output) "
       "VALUES ('j1', 0, 'provisioner', 'info', 's', 'x') RETURNING id",
       1);
  return out;
}

TEST_F(PostgresMigrationsTest, TriggersKeepWhatSqlitesKeep) {
  postgres::migrate(*db_);
  auto postgres = run_trigger_scenario(*db_);
  SqliteReference sqlite;
  EXPECT_EQ(postgres, run_trigger_scenario(sqlite.db()));
  // What those answers are, spelled out for the ones that matter most.
  auto has = [&](const std::string& row) {
    return std::find(postgres.begin(), postgres.end(), row) != postgres.end();
  };
  EXPECT_TRUE(has("inserted: w1|alice|NULL|0|0"));
  EXPECT_TRUE(has("inserted: 3"));
  EXPECT_TRUE(has("first build, pending: w1|alice|b1|0|0"));
  EXPECT_TRUE(has("start succeeded: w1|alice|b1|1|0"));
  EXPECT_TRUE(has("stop queued: w1|alice|b3|0|0"));
  EXPECT_TRUE(has("older build: w1|alice|b3|0|0"));
  EXPECT_TRUE(has("older build's job done: w1|alice|b3|0|0"));
  EXPECT_TRUE(has("start failed: w2|Bob|b4|0|0"));
  EXPECT_TRUE(has("error cleared: w2|Bob|b4|1|0"));
  EXPECT_TRUE(has("canceled: w2|Bob|b4|0|0"));
  EXPECT_TRUE(has("renamed owner: w2|Robert|b4|0|0"));
  EXPECT_TRUE(has("renamed owner: w3|Robert|NULL|0|0"));
  EXPECT_TRUE(has("deleted: w3|Robert|NULL|0|1"));
  EXPECT_TRUE(has("deleted: 2"));
  EXPECT_TRUE(has("undeleted: 3"));
  EXPECT_TRUE(has("inserted more: 4"));
  EXPECT_TRUE(has("removed: 3"));
  EXPECT_TRUE(has("ids: 1"));
  std::vector<std::string> parameters(postgres.end() - 7, postgres.end() - 1);
  EXPECT_EQ(parameters,
            (std::vector<std::string>{"parameters: zeta", "parameters: alpha", "parameters: Mid",
                                      "names: Mid", "names: alpha", "names: zeta"}));
}

TEST_F(PostgresMigrationsTest, SqliteFunctionsAnswerAsSqlites) {
  postgres::migrate(*db_);
  SqliteReference sqlite;
  for (const auto& [haystack, needle] : std::vector<std::pair<std::string, std::string>>{
           {"hello", "ll"}, {"hello", "x"}, {"h\u00e9llo", "llo"}, {"", ""}}) {
    EXPECT_EQ(rows(*db_, "SELECT instr(?, ?)", 1, {haystack, needle}),
              rows(sqlite.db(), "SELECT instr(?, ?)", 1, {haystack, needle}))
        << haystack << " " << needle;
  }
  const std::vector<std::string> documents = {R"(["a","b",3,null,{"x":1},[1,2],true])",
                                              R"({"k":"v","n":1,"o":{"p":"q"},"z":null})", R"([])",
                                              R"({})"};
  for (const auto& document : documents) {
    // The value of an object or array is its JSON, which the engines may space differently:
    // compared through json_extract.
    const char* each =
        "SELECT key, CASE WHEN value LIKE '{%' THEN json_extract(value, '$.x') "
        "WHEN value LIKE '[%' THEN json_extract(value, '$[1]') ELSE value END FROM json_each(?)";
    auto expected = rows(sqlite.db(), each, 2, {document});
    // SQLite's true is 1; the store never reads a JSON boolean through json_each.
    for (auto& row : expected)
      if (row == "6|1") row = "6|true";
    EXPECT_EQ(rows(*db_, each, 2, {document}), expected) << document;
  }
  EXPECT_EQ(rows(*db_, "SELECT value FROM json_each(NULL)", 1), std::vector<std::string>{});
  const char* document =
      R"({"k":"v","n":12,"r":1.5,"e":1e3,"t":true,"f":false,"o":{"p":"q"},"z":null,"a":["x","y"]})";
  const std::vector<std::string> paths = {"$.k",    "$.n", "$.r",    "$.e",       "$.t",
                                          "$.f",    "$.o", "$.o.p",  "$.z",       "$.a",
                                          "$.a[1]", "$",   "$.a[5]", "$.missing", "$.o.x"};
  for (const auto& path : paths) {
    EXPECT_EQ(rows(*db_, "SELECT json_type(?, ?)", 1, {document, path}),
              rows(sqlite.db(), "SELECT json_type(?, ?)", 1, {document, path}))
        << path;
    // Objects, arrays and reals compared by type above (PostgreSQL keeps a real's text, 1e3,
    // where SQLite writes 1000.0); booleans are SQLite's 1 and 0.
    const char* extract =
        "SELECT CASE WHEN json_type(?1, ?2) IN ('object', 'array', 'real') THEN 'as typed' "
        "WHEN json_type(?1, ?2) IN ('true', 'false') THEN json_type(?1, ?2) "
        "ELSE json_extract(?1, ?2) END";
    EXPECT_EQ(rows(*db_, extract, 1, {document, path}),
              rows(sqlite.db(), extract, 1, {document, path}))
        << path;
  }
  EXPECT_EQ(rows(*db_, "SELECT json_type(?)", 1, {"[1]"}), std::vector<std::string>{"array"});
  // As the store uses them: ids in a JSON array, tags matched key by key, a number in a policy.
  db_->exec(R"sql(
INSERT INTO users (id, email, username, created_at, updated_at, status, login_type, last_seen_at)
  VALUES ('u1', 'a@x', 'alice', 0, 0, 'active', 'password', 0),
         ('u2', 'b@x', 'bob', 0, 0, 'active', 'password', 0);
)sql");
  EXPECT_EQ(rows(*db_, "SELECT id FROM users WHERE id IN (SELECT value FROM json_each(?))", 1,
                 {R"(["u2","nobody"])"}),
            std::vector<std::string>{"u2"});
  EXPECT_EQ(rows(*db_,
                 "SELECT COUNT(*) FROM json_each(?) jt WHERE NOT EXISTS (SELECT 1 FROM "
                 "json_each(?) wt WHERE wt.key = jt.key AND wt.value = jt.value)",
                 1, {R"({"os":"linux","arch":"amd64"})", R"({"arch":"amd64","os":"linux"})"}),
            std::vector<std::string>{"0"});
  EXPECT_EQ(integer(*db_,
                    "SELECT CAST(json_extract('{\"time_til_dormant_ms\":86400000}', "
                    "'$.time_til_dormant_ms') AS BIGINT) * 1000"),
            86400000000);
}

}  // namespace
}  // namespace berth::store::postgres
