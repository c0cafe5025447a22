#include "store/postgres/postgres_database.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>

#include "common/error.hpp"
#include "support/postgres_suite.hpp"

namespace berth::store::postgres {
namespace {

using sqlite::Statement;

TEST(PostgresPlaceholders, RewritesSqlitePlaceholdersAsNumberedOnes) {
  struct Case {
    const char* sql;
    const char* expected;
    int count;
  };
  const Case cases[] = {
      {"SELECT 1", "SELECT 1", 0},
      {"SELECT ?, ?, ?", "SELECT $1, $2, $3", 3},
      {"SELECT ?2, ?1", "SELECT $2, $1", 2},
      // A bare `?` is one more than the largest number so far, as in SQLite.
      {"SELECT ?3, ?, ?1, ?", "SELECT $3, $4, $1, $5", 5},
      {"SELECT ?10", "SELECT $10", 10},
      {"SELECT 'a?b', ?", "SELECT 'a?b', $1", 1},
      {"SELECT 'it''s ?', ?", "SELECT 'it''s ?', $1", 1},
      {"SELECT \"odd?name\" FROM t WHERE x = ?", "SELECT \"odd?name\" FROM t WHERE x = $1", 1},
      {"SELECT ? -- why?\n, ?", "SELECT $1 -- why?\n, $2", 2},
      {"SELECT ? /* ? */, ?", "SELECT $1 /* ? */, $2", 2},
      {"SELECT 'unterminated ?", "SELECT 'unterminated ?", 0},
      {"SELECT ? -- trailing comment ?", "SELECT $1 -- trailing comment ?", 1},
  };
  for (const auto& c : cases) {
    auto rewritten = rewrite_placeholders(c.sql);
    EXPECT_EQ(rewritten.text, c.expected) << c.sql;
    EXPECT_EQ(rewritten.parameter_count, c.count) << c.sql;
  }
}

TEST(PostgresDatabaseConnect, FailsWithUnavailableWhenNoServerListens) {
  try {
    PostgresDatabase db("postgresql://postgres@127.0.0.1:1/postgres?connect_timeout=5");
    FAIL() << "connected to nothing";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unavailable);
    EXPECT_EQ(e.message(), "Cannot connect to PostgreSQL.");
    EXPECT_NE(e.detail().find("127.0.0.1"), std::string::npos) << e.detail();
  }
}

// Each test gets a database of its own on one server for the test binary. When the server
// cannot start, every test fails, saying why: PostgreSQL is part of the test setup.
class PostgresDatabaseTest : public testing::PostgresSuite {
 protected:
  PostgresDatabaseTest() : PostgresSuite("test_") {}

  void SetUp() override {
    PostgresSuite::SetUp();
    if (HasFatalFailure()) return;
    db_ = std::make_unique<PostgresDatabase>(url());
  }

  std::string text_of(const char* sql) {
    Statement s(*db_, sql);
    EXPECT_TRUE(s.step()) << sql;
    return s.text(0);
  }
  std::int64_t integer_of(const char* sql) {
    Statement s(*db_, sql);
    EXPECT_TRUE(s.step()) << sql;
    return s.integer(0);
  }
  template <class Fn>
  static std::optional<ErrorCode> error_of(Fn fn) {
    try {
      fn();
    } catch (const Error& e) {
      return e.code();
    }
    return std::nullopt;
  }
  // Ends this connection's server session from another connection, as a server restart or a
  // network cut would.
  void terminate_session() {
    PostgresDatabase admin(url());
    Statement pid(*db_, "SELECT pg_backend_pid()");
    ASSERT_TRUE(pid.step());
    Statement kill(admin, "SELECT pg_terminate_backend(?)");
    kill.bind(1, pid.integer(0));
    ASSERT_TRUE(kill.step());
    ASSERT_TRUE(kill.boolean(0));
  }

  std::unique_ptr<PostgresDatabase> db_;
};

TEST_F(PostgresDatabaseTest, SpeaksPostgresInUtcAndUtf8) {
  EXPECT_EQ(db_->dialect(), sqlite::Dialect::postgres);
  EXPECT_EQ(text_of("SELECT current_setting('TimeZone')"), "UTC");
  EXPECT_EQ(text_of("SELECT current_setting('client_encoding')"), "UTF8");
}

TEST_F(PostgresDatabaseTest, ExecRunsSeveralStatementsAtOnce) {
  db_->exec(
      "CREATE TABLE a (id BIGINT PRIMARY KEY);"
      "CREATE TABLE b (id BIGINT REFERENCES a (id));"
      "INSERT INTO a VALUES (1), (2);"
      "INSERT INTO b VALUES (2);");
  EXPECT_EQ(integer_of("SELECT count(*) FROM a"), 2);
  EXPECT_EQ(integer_of("SELECT id FROM b"), 2);
}

TEST_F(PostgresDatabaseTest, ExecFailureIsAnInternalErrorWithTheServerMessage) {
  try {
    db_->exec("SELECT * FROM no_such_table");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::internal);
    EXPECT_NE(e.detail().find("no_such_table"), std::string::npos) << e.detail();
  }
}

TEST_F(PostgresDatabaseTest, BindsAndReadsText) {
  db_->exec("CREATE TABLE t (name TEXT NOT NULL)");
  const std::string name = "Grüße, 世界 'quoted' \"double\" ?";
  Statement(*db_, "INSERT INTO t (name) VALUES (?)").bind(1, name).run();
  Statement s(*db_, "SELECT name FROM t WHERE name = ?1 AND length(?1) > 0");
  s.bind(1, name);
  ASSERT_TRUE(s.step());
  EXPECT_EQ(s.text(0), name);
  EXPECT_FALSE(s.is_null(0));
  EXPECT_FALSE(s.step());
}

TEST_F(PostgresDatabaseTest, BindsAndReadsInt64IncludingExtremes) {
  db_->exec("CREATE TABLE t (n BIGINT NOT NULL)");
  const std::int64_t values[] = {0,
                                 -1,
                                 42,
                                 std::numeric_limits<std::int64_t>::max(),
                                 std::numeric_limits<std::int64_t>::min(),
                                 1'700'000'000'000'000};
  for (auto value : values) Statement(*db_, "INSERT INTO t (n) VALUES (?)").bind(1, value).run();
  for (auto value : values) {
    Statement s(*db_, "SELECT n FROM t WHERE n = ?");
    s.bind(1, value);
    ASSERT_TRUE(s.step()) << value;
    EXPECT_EQ(s.integer(0), value);
  }
}

TEST_F(PostgresDatabaseTest, BindsAndReadsNull) {
  db_->exec("CREATE TABLE t (id BIGINT, note TEXT)");
  Statement(*db_, "INSERT INTO t (id, note) VALUES (?, ?)")
      .bind(1, std::int64_t(1))
      .bind_null(2)
      .run();
  // A parameter never bound is NULL, as in SQLite.
  Statement(*db_, "INSERT INTO t (id, note) VALUES (?, ?)").bind(1, std::int64_t(2)).run();
  Statement s(*db_, "SELECT note, id FROM t ORDER BY id");
  for (int row = 0; row < 2; ++row) {
    ASSERT_TRUE(s.step());
    EXPECT_TRUE(s.is_null(0));
    EXPECT_EQ(s.text(0), "");
    EXPECT_EQ(s.integer(0), 0);
    EXPECT_FALSE(s.is_null(1));
  }
  EXPECT_FALSE(s.step());
}

TEST_F(PostgresDatabaseTest, RoundTripsBlobsWithZeroBytes) {
  db_->exec("CREATE TABLE t (id BIGINT PRIMARY KEY, data BYTEA NOT NULL)");
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(char(i));
  bytes += std::string("\0\0tail\0", 7);
  Statement(*db_, "INSERT INTO t (id, data) VALUES (1, ?)").bind_blob(1, bytes).run();
  Statement(*db_, "INSERT INTO t (id, data) VALUES (2, ?)").bind_blob(1, "").run();
  EXPECT_EQ(text_of("SELECT data FROM t WHERE id = 1"), bytes);
  EXPECT_EQ(text_of("SELECT data FROM t WHERE id = 2"), "");
  EXPECT_EQ(integer_of("SELECT length(data) FROM t WHERE id = 1"), 263);
  // A blob also binds where the server could not tell its type from the context.
  Statement s(*db_, "SELECT ?");
  s.bind_blob(1, bytes);
  ASSERT_TRUE(s.step());
  EXPECT_EQ(s.text(0), bytes);
}

TEST_F(PostgresDatabaseTest, ReadsBooleansAsOneAndZero) {
  db_->exec("CREATE TABLE t (id BIGINT, flag BOOLEAN NOT NULL)");
  // Integers bound to boolean contexts, as the store binds C++ bools.
  Statement(*db_, "INSERT INTO t (id, flag) VALUES (1, ?), (2, ?)")
      .bind(1, true)
      .bind(2, false)
      .run();
  EXPECT_EQ(integer_of("SELECT flag FROM t WHERE id = 1"), 1);
  EXPECT_EQ(integer_of("SELECT flag FROM t WHERE id = 2"), 0);
  EXPECT_EQ(integer_of("SELECT EXISTS (SELECT 1 FROM t WHERE flag)"), 1);
  EXPECT_EQ(integer_of("SELECT 2 < 1"), 0);
  Statement s(*db_, "SELECT count(*) FROM t WHERE flag OR ?");
  s.bind(1, true);
  ASSERT_TRUE(s.step());
  EXPECT_EQ(s.integer(0), 2);
  EXPECT_TRUE(s.boolean(0));
}

TEST_F(PostgresDatabaseTest, ReadsTheIntegerPartOfNumericResults) {
  db_->exec("CREATE TABLE t (n BIGINT); INSERT INTO t VALUES (3), (4), (5)");
  EXPECT_EQ(integer_of("SELECT sum(n) FROM t"), 12);
  EXPECT_EQ(integer_of("SELECT avg(n) FROM t"), 4);
  EXPECT_EQ(integer_of("SELECT 12.75::numeric"), 12);
  EXPECT_EQ(integer_of("SELECT -2.5::float8"), -2);
  EXPECT_EQ(integer_of("SELECT 1e15::float8"), 1'000'000'000'000'000);
}

TEST_F(PostgresDatabaseTest, UniqueViolationIsAConflict) {
  db_->exec("CREATE TABLE t (name TEXT PRIMARY KEY)");
  Statement(*db_, "INSERT INTO t (name) VALUES (?)").bind(1, std::string_view("a")).run();
  try {
    Statement(*db_, "INSERT INTO t (name) VALUES (?)").bind(1, std::string_view("a")).run();
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::conflict);
    EXPECT_EQ(e.message(), "The change conflicts with existing data.");
    EXPECT_NE(e.detail().find("duplicate key"), std::string::npos) << e.detail();
  }
  // The connection goes on after the failure.
  EXPECT_EQ(integer_of("SELECT count(*) FROM t"), 1);
}

TEST_F(PostgresDatabaseTest, ForeignKeyAndNotNullViolationsAreConflicts) {
  db_->exec(
      "CREATE TABLE a (id BIGINT PRIMARY KEY);"
      "CREATE TABLE b (id BIGINT NOT NULL REFERENCES a (id))");
  EXPECT_EQ(error_of([&] {
              Statement(*db_, "INSERT INTO b (id) VALUES (?)").bind(1, std::int64_t(9)).run();
            }),
            ErrorCode::conflict);
  EXPECT_EQ(error_of([&] { Statement(*db_, "INSERT INTO b (id) VALUES (?)").bind_null(1).run(); }),
            ErrorCode::conflict);
}

TEST_F(PostgresDatabaseTest, ReusesThePreparedStatementForTheSameSql) {
  const char* sql = "SELECT ? + 1";
  sqlite::Cursor* first = nullptr;
  {
    Statement s(*db_, sql);
    s.bind(1, std::int64_t(1));
    ASSERT_TRUE(s.step());
    EXPECT_EQ(s.integer(0), 2);
    first = db_->acquire(sql);  // in use above: a different cursor
    EXPECT_NE(first, nullptr);
    db_->release(first);
  }
  auto* again = db_->acquire(sql);
  // Released with its binds reset: an unbound parameter is NULL again.
  ASSERT_TRUE(again->step());
  EXPECT_TRUE(again->is_null(0));
  db_->release(again);
  {
    Statement s(*db_, sql);
    s.bind(1, std::int64_t(41));
    ASSERT_TRUE(s.step());
    EXPECT_EQ(s.integer(0), 42);
  }
  // One server-side statement for the SQL, however often it ran.
  Statement count(*db_,
                  "SELECT count(*) FROM pg_prepared_statements WHERE statement = 'SELECT $1 + 1'");
  ASSERT_TRUE(count.step());
  EXPECT_EQ(count.integer(0), 1);
}

TEST_F(PostgresDatabaseTest, HandsOutTheSameCachedCursorOnlyWhenFree) {
  auto* a = db_->acquire("SELECT 1");
  auto* b = db_->acquire("SELECT 1");
  EXPECT_NE(a, b);
  db_->release(b);
  db_->release(a);
  auto* c = db_->acquire("SELECT 1");
  EXPECT_EQ(c, a);
  db_->release(c);
}

TEST_F(PostgresDatabaseTest, RunsStatementsBeyondTheCache) {
  for (int i = 0; i < 300; ++i) {
    auto sql = "SELECT " + std::to_string(i) + " + ?";
    Statement s(*db_, sql);
    s.bind(1, std::int64_t(1));
    ASSERT_TRUE(s.step());
    EXPECT_EQ(s.integer(0), i + 1);
  }
}

TEST_F(PostgresDatabaseTest, RunReturnsTheNumberOfRowsChanged) {
  db_->exec("CREATE TABLE t (n BIGINT)");
  EXPECT_EQ(Statement(*db_, "INSERT INTO t VALUES (1), (2), (3)").run(), 3);
  EXPECT_EQ(Statement(*db_, "UPDATE t SET n = n + 10 WHERE n >= ?").bind(1, std::int64_t(2)).run(),
            2);
  EXPECT_EQ(Statement(*db_, "DELETE FROM t WHERE n = 999").run(), 0);
  EXPECT_EQ(Statement(*db_, "CREATE INDEX t_n ON t (n)").run(), 0);
  EXPECT_EQ(Statement(*db_, "DELETE FROM t").run(), 3);
}

TEST_F(PostgresDatabaseTest, StepRunsTheStatementAgainAfterTheLastRow) {
  Statement s(*db_, "SELECT generate_series(1, ?)");
  s.bind(1, std::int64_t(2));
  for (int pass = 0; pass < 2; ++pass) {
    ASSERT_TRUE(s.step());
    EXPECT_EQ(s.integer(0), 1);
    ASSERT_TRUE(s.step());
    EXPECT_EQ(s.integer(0), 2);
    EXPECT_FALSE(s.step());
  }
}

TEST_F(PostgresDatabaseTest, RollsBackATransaction) {
  db_->exec("CREATE TABLE t (n BIGINT)");
  db_->begin_write();
  Statement(*db_, "INSERT INTO t VALUES (1)").run();
  EXPECT_EQ(integer_of("SELECT count(*) FROM t"), 1);
  db_->exec("ROLLBACK");
  EXPECT_EQ(integer_of("SELECT count(*) FROM t"), 0);

  db_->begin_write();
  Statement(*db_, "INSERT INTO t VALUES (1)").run();
  db_->exec("COMMIT");
  EXPECT_EQ(integer_of("SELECT count(*) FROM t"), 1);
}

TEST_F(PostgresDatabaseTest, ReadTransactionsAreReadOnlySnapshots) {
  db_->exec("CREATE TABLE t (n BIGINT); INSERT INTO t VALUES (1)");
  db_->begin_read();
  EXPECT_EQ(integer_of("SELECT count(*) FROM t"), 1);
  {
    PostgresDatabase other(url());
    Statement(other, "INSERT INTO t VALUES (2)").run();
  }
  EXPECT_EQ(integer_of("SELECT count(*) FROM t"), 1);  // the snapshot from the first read
  EXPECT_THROW(Statement(*db_, "INSERT INTO t VALUES (3)").run(), Error);
  db_->exec("ROLLBACK");
  EXPECT_EQ(integer_of("SELECT count(*) FROM t"), 2);
}

TEST_F(PostgresDatabaseTest, ReconnectsOnTheNextStatementAfterALostConnection) {
  EXPECT_EQ(integer_of("SELECT 7"), 7);  // prepared on the first session
  terminate_session();
  try {
    integer_of("SELECT 7");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unavailable);
    EXPECT_EQ(e.message(), "Lost the connection to PostgreSQL.");
  }
  // The next acquire reconnects and prepares the cached statement again.
  EXPECT_EQ(integer_of("SELECT 7"), 7);
  EXPECT_EQ(text_of("SELECT current_setting('TimeZone')"), "UTC");
}

TEST_F(PostgresDatabaseTest, NeverContinuesALostTransactionOnANewConnection) {
  db_->exec("CREATE TABLE t (n BIGINT)");
  db_->begin_write();
  Statement(*db_, "INSERT INTO t VALUES (1)").run();
  terminate_session();
  EXPECT_THROW(Statement(*db_, "INSERT INTO t VALUES (2)").run(), Error);
  // Still inside the lost transaction: no reconnect, no autocommitted insert.
  EXPECT_THROW(Statement(*db_, "INSERT INTO t VALUES (3)").run(), Error);
  EXPECT_THROW(db_->exec("ROLLBACK"), Error);
  EXPECT_EQ(integer_of("SELECT count(*) FROM t"), 0);
  db_->begin_write();
  Statement(*db_, "INSERT INTO t VALUES (4)").run();
  db_->exec("COMMIT");
  EXPECT_EQ(integer_of("SELECT count(*) FROM t"), 1);
}

}  // namespace
}  // namespace berth::store::postgres
