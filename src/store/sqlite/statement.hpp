#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/time.hpp"
#include "common/uuid.hpp"

namespace berth::store::sqlite {

// The SQL engine behind a connection: the store's SQL is shared, and the few places where the
// two engines spell a thing differently ask which one they talk to.
enum class Dialect { sqlite, postgres };

// A prepared statement of one engine, in use by one Statement at a time. Placeholders are
// SQLite's (`?` and `?N`); the PostgreSQL cursor numbers them as `$N`.
class Cursor {
 public:
  virtual ~Cursor() = default;
  virtual void bind_text(int index, std::string_view text) = 0;
  virtual void bind_integer(int index, std::int64_t number) = 0;
  virtual void bind_blob(int index, std::string_view bytes) = 0;
  virtual void bind_null(int index) = 0;
  // Advances to the next row (running the statement first); false when done.
  virtual bool step() = 0;
  // Runs a statement that returns no rows; returns the number of rows changed.
  virtual int run() = 0;
  virtual std::string text(int column) const = 0;
  virtual std::int64_t integer(int column) const = 0;
  virtual bool is_null(int column) const = 0;
};

// An open database connection with its prepared statements kept for reuse; closes it when
// destroyed. Used by one thread at a time.
class Database {
 public:
  virtual ~Database() = default;
  virtual Dialect dialect() const = 0;
  // Runs SQL with no parameters and no results (settings, DDL, BEGIN/COMMIT).
  virtual void exec(const char* sql) = 0;
  // Starts a transaction that will write (SQLite takes the write lock at once) or one that only
  // reads from one snapshot.
  virtual void begin_write() = 0;
  virtual void begin_read() = 0;

  // A prepared statement for `sql`: the cached one when it is free, else a new one (cached
  // while the cache has room). Give it back with release().
  virtual Cursor* acquire(std::string_view sql) = 0;
  virtual void release(Cursor* cursor) = 0;
};

// A prepared statement with typed binds and reads; goes back to its connection's cache, reset,
// when destroyed. Constraint failures throw Error{conflict}.
class Statement {
 public:
  Statement(Database& db, std::string_view sql) : db_(db), cursor_(db.acquire(sql)) {}
  ~Statement() { db_.release(cursor_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, std::string_view text) {
    cursor_->bind_text(index, text);
    return *this;
  }
  Statement& bind(int index, std::int64_t number) {
    cursor_->bind_integer(index, number);
    return *this;
  }
  Statement& bind(int index, bool flag) { return bind(index, std::int64_t(flag ? 1 : 0)); }
  Statement& bind(int index, const Uuid& id) { return bind(index, id.to_string()); }
  Statement& bind(int index, TimePoint t) { return bind(index, to_unix_micros(t)); }
  Statement& bind_blob(int index, std::string_view bytes) {
    cursor_->bind_blob(index, bytes);
    return *this;
  }
  Statement& bind_null(int index) {
    cursor_->bind_null(index);
    return *this;
  }

  bool step() { return cursor_->step(); }
  int run() { return cursor_->run(); }

  std::string text(int column) const { return cursor_->text(column); }
  std::int64_t integer(int column) const { return cursor_->integer(column); }
  bool boolean(int column) const { return integer(column) != 0; }
  Uuid uuid(int column) const;
  TimePoint time(int column) const { return from_unix_micros(integer(column)); }
  bool is_null(int column) const { return cursor_->is_null(column); }

 private:
  Database& db_;
  Cursor* cursor_;
};

}  // namespace berth::store::sqlite
