#include "store/sqlite/statement.hpp"

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

}  // namespace

Database::Database(const std::string& path) {
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

namespace {
constexpr std::size_t kMaxCachedStatements = 256;
}  // namespace

Database::~Database() {
  for (auto& [sql, cached] : cache_) sqlite3_finalize(cached.stmt);
  sqlite3_close_v2(db_);
}

sqlite3_stmt* Database::acquire(std::string_view sql) {
  auto it = cache_.find(std::string(sql));
  if (it != cache_.end() && !it->second.in_use) {
    it->second.in_use = true;
    return it->second.stmt;
  }
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), int(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt,
                              nullptr);
  if (rc != SQLITE_OK) fail(db_, rc, "prepare");
  if (it == cache_.end() && cache_.size() < kMaxCachedStatements) {
    cache_.emplace(std::string(sql), Cached{stmt, true});
    cached_sql_.emplace(stmt, std::string(sql));
  }
  return stmt;
}

void Database::release(sqlite3_stmt* stmt) {
  auto it = cached_sql_.find(stmt);
  if (it == cached_sql_.end()) {
    sqlite3_finalize(stmt);
    return;
  }
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  cache_[it->second].in_use = false;
}

void Database::exec(const char* sql) {
  char* message = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    std::string detail = message ? message : "";
    sqlite3_free(message);
    fail(db_, rc, detail.empty() ? sql : detail);
  }
}

Statement::Statement(Database& db, std::string_view sql) : db_(db), stmt_(db.acquire(sql)) {}

Statement::~Statement() {
  db_.release(stmt_);
}

Statement& Statement::bind(int index, std::string_view text) {
  sqlite3_bind_text(stmt_, index, text.data(), int(text.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::bind(int index, std::int64_t number) {
  sqlite3_bind_int64(stmt_, index, number);
  return *this;
}

Statement& Statement::bind(int index, bool flag) {
  return bind(index, std::int64_t(flag ? 1 : 0));
}

Statement& Statement::bind(int index, const Uuid& id) {
  return bind(index, id.to_string());
}

Statement& Statement::bind(int index, TimePoint t) {
  return bind(index, to_unix_micros(t));
}

Statement& Statement::bind_blob(int index, std::string_view bytes) {
  sqlite3_bind_blob(stmt_, index, bytes.data(), int(bytes.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::bind_null(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail(db_.handle(), rc, "step");
}

int Statement::run() {
  while (step()) {
  }
  return sqlite3_changes(db_.handle());
}

std::string Statement::text(int column) const {
  auto data = sqlite3_column_blob(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  if (!data) return {};
  return std::string(static_cast<const char*>(data), size);
}

std::int64_t Statement::integer(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

Uuid Statement::uuid(int column) const {
  auto id = Uuid::parse(text(column));
  if (!id) throw Error{ErrorCode::internal, "A stored UUID is malformed."};
  return *id;
}

TimePoint Statement::time(int column) const {
  return from_unix_micros(integer(column));
}

bool Statement::is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

}  // namespace berth::store::sqlite
