#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "store/sqlite/statement.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace berth::store::sqlite {

// A connection to one SQLite file, with its prepared statements kept for reuse.
class SqliteDatabase final : public Database {
 public:
  explicit SqliteDatabase(const std::string& path);
  ~SqliteDatabase() override;
  SqliteDatabase(const SqliteDatabase&) = delete;
  SqliteDatabase& operator=(const SqliteDatabase&) = delete;

  Dialect dialect() const override { return Dialect::sqlite; }
  void exec(const char* sql) override;
  void begin_write() override { exec("BEGIN IMMEDIATE"); }
  void begin_read() override { exec("BEGIN"); }
  Cursor* acquire(std::string_view sql) override;
  void release(Cursor* cursor) override;

 private:
  class SqliteCursor;
  sqlite3* db_ = nullptr;
  // Keyed by SQL text; bounded, so that listings with generated filters cannot grow it.
  std::unordered_map<std::string, std::unique_ptr<SqliteCursor>> cache_;
  // Statements prepared while the cached one was in use or the cache was full; finalized
  // when given back.
  std::unordered_map<Cursor*, std::unique_ptr<SqliteCursor>> transient_;
};

}  // namespace berth::store::sqlite
