#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/sqlite/statement.hpp"

struct pg_conn;  // libpq's PGconn and PGresult, kept out of this header
struct pg_result;

namespace berth::store::postgres {

// SQL with SQLite's placeholders (`?`, `?N`) rewritten as PostgreSQL's (`$N`), and how many
// parameters it takes (the largest number used).
struct PlaceholderSql {
  std::string text;
  int parameter_count = 0;
  // Which of 1..parameter_count the text uses (index 0 unused); the others are bound anyway
  // by shared binding code, and need a type the server cannot infer from the SQL.
  std::vector<bool> used;
};

// Numbers `?` as SQLite does (one more than the largest number so far) and keeps `?N`; leaves
// string literals, quoted identifiers and comments alone.
PlaceholderSql rewrite_placeholders(std::string_view sql);

class PostgresCursor;

// One libpq connection running the store's SQL, with its prepared statements cached by SQL
// text; closes the connection when destroyed. Used by one thread at a time.
class PostgresDatabase final : public sqlite::Database {
 public:
  // Connects with a libpq URL or conninfo string; throws Error{unavailable} when it cannot.
  explicit PostgresDatabase(const std::string& url);
  ~PostgresDatabase() override;
  PostgresDatabase(const PostgresDatabase&) = delete;
  PostgresDatabase& operator=(const PostgresDatabase&) = delete;

  // Database
  sqlite::Dialect dialect() const override { return sqlite::Dialect::postgres; }
  void exec(const char* sql) override;
  void begin_write() override;
  void begin_read() override;
  sqlite::Cursor* acquire(std::string_view sql) override;
  void release(sqlite::Cursor* cursor) override;

 private:
  friend class PostgresCursor;
  struct ConnectionCloser {
    void operator()(pg_conn* conn) const;
  };
  struct ResultClearer {
    void operator()(pg_result* result) const;
  };
  using Result = std::unique_ptr<pg_result, ResultClearer>;
  struct SqlHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view sql) const {
      return std::hash<std::string_view>{}(sql);
    }
  };

  // Takes ownership of a command's result; throws berth::Error when the command failed.
  Result checked(pg_result* raw, std::string_view sql);
  void configure_session();
  void reconnect_if_lost(bool ends_transaction);
  void start_transaction(const char* sql);
  // Records whether the connection is inside a transaction after a command, so that a
  // transaction whose connection was lost is never silently continued on a new one.
  void note_transaction_status();

  std::unique_ptr<pg_conn, ConnectionCloser> conn_;
  bool in_transaction_ = false;
  // Bumped on every reconnect: statements prepared on an older connection are prepared again.
  std::uint64_t generation_ = 0;
  std::uint64_t next_statement_id_ = 0;
  std::unordered_map<std::string, std::unique_ptr<PostgresCursor>, SqlHash, std::equal_to<>> cache_;
  // Cursors handed out beyond the cache (it is full, or its cursor for the SQL is in use).
  std::unordered_map<const sqlite::Cursor*, std::unique_ptr<PostgresCursor>> loose_;
};

}  // namespace berth::store::postgres
