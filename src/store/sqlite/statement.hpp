#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/time.hpp"
#include "common/uuid.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace berth::store::sqlite {

// An open database file; closes it when destroyed.
class Database {
 public:
  explicit Database(const std::string& path);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  sqlite3* handle() const { return db_; }
  // Runs SQL with no parameters and no results (pragmas, DDL, BEGIN/COMMIT).
  void exec(const char* sql);

 private:
  sqlite3* db_ = nullptr;
};

// A prepared statement with typed binds and reads; resets itself for reuse when destroyed.
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
