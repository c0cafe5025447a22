#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/time.hpp"
#include "common/uuid.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace berth::store::sqlite {

// An open database connection with its prepared statements kept for reuse; closes it when
// destroyed. Used by one thread at a time.
class Database {
 public:
  explicit Database(const std::string& path);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  sqlite3* handle() const { return db_; }
  // Runs SQL with no parameters and no results (pragmas, DDL, BEGIN/COMMIT).
  void exec(const char* sql);

  // A prepared statement for `sql`: the cached one when it is free, else a new one (cached
  // while the cache has room). Give it back with release().
  sqlite3_stmt* acquire(std::string_view sql);
  void release(sqlite3_stmt* stmt);

 private:
  struct Cached {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;
  };
  sqlite3* db_ = nullptr;
  // Keyed by SQL text; bounded, so that listings with generated filters cannot grow it.
  std::unordered_map<std::string, Cached> cache_;
  std::unordered_map<sqlite3_stmt*, std::string> cached_sql_;
};

// A prepared statement with typed binds and reads; goes back to its connection's cache, reset,
// when destroyed.
class Statement {
 public:
  Statement(Database& db, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, std::int64_t number);
  Statement& bind(int index, bool flag);
  Statement& bind(int index, const Uuid& id);
  Statement& bind(int index, TimePoint t);
  Statement& bind_blob(int index, std::string_view bytes);
  Statement& bind_null(int index);

  // Advances to the next row; false when done. Constraint failures throw Error{conflict}.
  bool step();
  // Runs a statement that returns no rows; returns the number of rows changed.
  int run();

  std::string text(int column) const;
  std::int64_t integer(int column) const;
  bool boolean(int column) const { return integer(column) != 0; }
  Uuid uuid(int column) const;
  TimePoint time(int column) const;
  bool is_null(int column) const;

 private:
  Database& db_;
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace berth::store::sqlite
