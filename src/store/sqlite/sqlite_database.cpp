#include "store/sqlite/sqlite_database.hpp"

#include <sqlite3.h>

#include "common/error.hpp"

namespace berth::store::sqlite {

namespace {

[[noreturn]] void fail(sqlite3* db, int rc, std::string_view what) {
  std::string detail = std::string(what) + ": " + sqlite3_errmsg(db);
  int primary = rc & 0xff;
  if (primary == SQLITE_CONSTRAINT)
    throw Error{ErrorCode::conflict, "The change conflicts with existing data.", detail};
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
    throw Error{ErrorCode::unavailable, "The database is busy; try again.", detail};
  throw Error{ErrorCode::internal, "An internal server error occurred.", detail};
}

constexpr std::size_t kMaxCachedStatements = 256;

}  // namespace

class SqliteDatabase::SqliteCursor final : public Cursor {
 public:
  SqliteCursor(sqlite3* db, std::string_view sql, bool cached) : db_(db), cached_(cached) {
    int rc = sqlite3_prepare_v3(db_, sql.data(), int(sql.size()),
                                cached ? SQLITE_PREPARE_PERSISTENT : 0, &stmt_, nullptr);
    if (rc != SQLITE_OK) fail(db_, rc, "prepare");
  }
  ~SqliteCursor() override { sqlite3_finalize(stmt_); }
  SqliteCursor(const SqliteCursor&) = delete;
  SqliteCursor& operator=(const SqliteCursor&) = delete;

  bool cached() const { return cached_; }
  bool in_use = true;
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  void bind_text(int index, std::string_view text) override {
    sqlite3_bind_text(stmt_, index, text.data(), int(text.size()), SQLITE_TRANSIENT);
  }
  void bind_integer(int index, std::int64_t number) override {
    sqlite3_bind_int64(stmt_, index, number);
  }
  void bind_blob(int index, std::string_view bytes) override {
    sqlite3_bind_blob(stmt_, index, bytes.data(), int(bytes.size()), SQLITE_TRANSIENT);
  }
  void bind_null(int index) override { sqlite3_bind_null(stmt_, index); }

  bool step() override {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail(db_, rc, "step");
  }
  int run() override {
    while (step()) {
    }
    return sqlite3_changes(db_);
  }

  std::string text(int column) const override {
    auto data = sqlite3_column_blob(stmt_, column);
    int size = sqlite3_column_bytes(stmt_, column);
    if (!data) return {};
    return std::string(static_cast<const char*>(data), size);
  }
  std::int64_t integer(int column) const override { return sqlite3_column_int64(stmt_, column); }
  bool is_null(int column) const override {
    return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  bool cached_;
};

SqliteDatabase::SqliteDatabase(const std::string& path) {
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string detail = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error{ErrorCode::unavailable, "Cannot open the database at " + path + ".", detail};
  }
  sqlite3_extended_result_codes(db_, 1);
}

SqliteDatabase::~SqliteDatabase() {
  // Every statement is finalized before the connection closes.
  transient_.clear();
  cache_.clear();
  sqlite3_close_v2(db_);
}

Cursor* SqliteDatabase::acquire(std::string_view sql) {
  auto it = cache_.find(std::string(sql));
  if (it != cache_.end() && !it->second->in_use) {
    it->second->in_use = true;
    return it->second.get();
  }
  bool cache = it == cache_.end() && cache_.size() < kMaxCachedStatements;
  auto cursor = std::make_unique<SqliteCursor>(db_, sql, cache);
  auto* raw = cursor.get();
  if (cache)
    cache_.emplace(std::string(sql), std::move(cursor));
  else
    transient_.emplace(raw, std::move(cursor));
  return raw;
}

void SqliteDatabase::release(Cursor* cursor) {
  auto* sqlite_cursor = static_cast<SqliteCursor*>(cursor);
  if (!sqlite_cursor->cached()) {
    transient_.erase(cursor);
    return;
  }
  sqlite_cursor->reset();
  sqlite_cursor->in_use = false;
}

void SqliteDatabase::exec(const char* sql) {
  char* message = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    std::string detail = message ? message : "";
    sqlite3_free(message);
    fail(db_, rc, detail.empty() ? sql : detail);
  }
}

}  // namespace berth::store::sqlite
