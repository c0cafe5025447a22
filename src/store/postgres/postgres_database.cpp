#include "store/postgres/postgres_database.hpp"

#include <libpq-fe.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <optional>
#include <vector>

#include "common/error.hpp"

namespace berth::store::postgres {

namespace {

// As SQLite's statement cache: enough for every statement the store has, bounded for SQL that
// is built at run time.
constexpr std::size_t kMaxCachedStatements = 256;
// pg_type's OID for bytea (catalog/pg_type_d.h is a server header, not in libpq-dev).
constexpr Oid kTextOid = 25;
constexpr Oid kByteaOid = 17;
constexpr int kTextFormat = 0;
constexpr int kBinaryFormat = 1;

// The end of the quoted text or comment that starts at `i`, or `i` when none starts there.
std::size_t skip_literal(std::string_view sql, std::size_t i) {
  auto until = [&](std::string_view end, std::size_t from) {
    auto at = sql.find(end, from);
    return at == std::string_view::npos ? sql.size() : at + end.size();
  };
  char c = sql[i];
  // A doubled quote inside ('it''s') ends one literal and starts the next: same result.
  if (c == '\'') return until("'", i + 1);
  if (c == '"') return until("\"", i + 1);
  if (sql.substr(i, 2) == "--") return until("\n", i + 2);
  if (sql.substr(i, 2) == "/*") return until("*/", i + 2);
  return i;
}

[[noreturn]] void fail(PGconn* conn, const PGresult* result, std::string_view sql) {
  std::string message = result ? PQresultErrorMessage(result) : "";
  if (message.empty()) message = PQerrorMessage(conn);
  while (!message.empty() && message.back() == '\n') message.pop_back();
  std::string detail = message + " (SQL: " + std::string(sql) + ")";
  const char* field = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string_view state = field ? field : "";
  if (PQstatus(conn) == CONNECTION_BAD || state.starts_with("08"))
    throw Error{ErrorCode::unavailable, "Lost the connection to PostgreSQL.", detail};
  if (state.starts_with("23"))
    throw Error{ErrorCode::conflict, "The change conflicts with existing data.", detail};
  // Serialization failures, deadlocks and NOWAIT locks are what SQLITE_BUSY is on SQLite.
  if (state == "40001" || state == "40P01" || state == "55P03")
    throw Error{ErrorCode::unavailable, "The database is busy; try again.", detail};
  throw Error{ErrorCode::internal, "An internal server error occurred.", detail};
}

[[noreturn]] void fail_lost(PGconn* conn) {
  std::string detail = PQerrorMessage(conn);
  while (!detail.empty() && detail.back() == '\n') detail.pop_back();
  throw Error{ErrorCode::unavailable, "Lost the connection to PostgreSQL.", detail};
}

// Server notices (e.g. "there is no transaction in progress") go to the log, not stderr.
void log_notice(void*, const PGresult* notice) {
  const char* severity = PQresultErrorField(notice, PG_DIAG_SEVERITY_NONLOCALIZED);
  const char* text = PQresultErrorField(notice, PG_DIAG_MESSAGE_PRIMARY);
  if (severity && std::string_view(severity) == "WARNING")
    spdlog::warn("PostgreSQL: {}", text ? text : "");
  else
    spdlog::debug("PostgreSQL: {}", text ? text : "");
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// bytea in text results is `\x` and two hex digits a byte (bytea_output = hex, the default).
std::string decode_bytea(std::string_view text) {
  if (!text.starts_with("\\x") || text.size() % 2 != 0)
    throw Error{ErrorCode::internal, "A stored blob is malformed.", "bytea is not in hex form"};
  std::string bytes;
  bytes.reserve(text.size() / 2 - 1);
  for (std::size_t i = 2; i < text.size(); i += 2) {
    int high = hex_digit(text[i]);
    int low = hex_digit(text[i + 1]);
    if (high < 0 || low < 0)
      throw Error{ErrorCode::internal, "A stored blob is malformed.", "bad hex digit in bytea"};
    bytes.push_back(char(high * 16 + low));
  }
  return bytes;
}

// A decimal integer; a boolean ('t'/'f', from EXISTS or a comparison) as 1/0; a numeric or
// float (from SUM or AVG) truncated toward zero, as sqlite3_column_int64 does with a real.
std::int64_t parse_integer(std::string_view text) {
  if (text == "t") return 1;
  if (text == "f") return 0;
  const char* end = text.data() + text.size();
  std::int64_t number = 0;
  auto [rest, error] = std::from_chars(text.data(), end, number);
  if (error == std::errc{} && rest == end) return number;
  double real = 0;
  auto [real_rest, real_error] = std::from_chars(text.data(), end, real);
  if (real_error != std::errc{}) return error == std::errc{} ? number : 0;
  constexpr double kLimit = 9.2e18;  // inside int64's range, so the cast is defined
  return std::int64_t(std::clamp(real, -kLimit, kLimit));
}

}  // namespace

PlaceholderSql rewrite_placeholders(std::string_view sql) {
  PlaceholderSql out;
  out.text.reserve(sql.size() + 16);
  std::size_t i = 0;
  while (i < sql.size()) {
    if (std::size_t end = skip_literal(sql, i); end != i) {
      out.text.append(sql.substr(i, end - i));
      i = end;
      continue;
    }
    if (sql[i] != '?') {
      out.text.push_back(sql[i++]);
      continue;
    }
    std::size_t digits = ++i;
    while (i < sql.size() && sql[i] >= '0' && sql[i] <= '9') ++i;
    int number = out.parameter_count + 1;
    if (i > digits) std::from_chars(sql.data() + digits, sql.data() + i, number);
    out.parameter_count = std::max(out.parameter_count, number);
    if (std::size_t(number) >= out.used.size()) out.used.resize(std::size_t(number) + 1);
    out.used[std::size_t(number)] = true;
    out.text += '$' + std::to_string(number);
  }
  out.used.resize(std::size_t(out.parameter_count) + 1);
  return out;
}

// A statement of one connection: prepared on first execution under `name` when cached, else
// run through the unnamed statement. Results come whole, in text format.
class PostgresCursor final : public sqlite::Cursor {
 public:
  PostgresCursor(PostgresDatabase& db, PlaceholderSql sql, std::string name)
      : db_(db), sql_(std::move(sql)), name_(std::move(name)), params_(sql_.parameter_count) {}

  bool cached() const { return !name_.empty(); }
  const PlaceholderSql& sql() const { return sql_; }
  bool in_use = false;

  // Back to a fresh state for the next Statement: no binds, no result.
  void reset() {
    for (auto& param : params_) param = Param{};
    result_.reset();
    row_ = -1;
  }

  // Cursor
  void bind_text(int index, std::string_view text) override { param(index) = {std::string(text)}; }
  void bind_integer(int index, std::int64_t number) override {
    param(index) = {std::to_string(number)};
  }
  void bind_blob(int index, std::string_view bytes) override {
    param(index) = {std::string(bytes), true};
  }
  void bind_null(int index) override { param(index) = Param{}; }
  bool step() override;
  int run() override;
  std::string text(int column) const override;
  std::int64_t integer(int column) const override;
  bool is_null(int column) const override;

 private:
  struct Param {
    std::optional<std::string> value;  // none: NULL
    bool blob = false;
  };
  // libpq's parallel arrays, pointing into params_.
  struct ParamArrays {
    std::vector<const char*> values;
    std::vector<int> lengths;
    std::vector<int> formats;
    std::vector<Oid> types;
  };

  Param& param(int index);
  ParamArrays param_arrays() const;
  PostgresDatabase::Result execute();
  bool on_row(int column) const;

  PostgresDatabase& db_;
  PlaceholderSql sql_;
  std::string name_;
  std::vector<Param> params_;
  std::optional<std::uint64_t> prepared_on_;  // the connection generation it was prepared on
  PostgresDatabase::Result result_;
  int row_ = -1;
};

PostgresCursor::Param& PostgresCursor::param(int index) {
  if (index < 1 || index > int(params_.size()))
    throw Error{ErrorCode::internal, "An internal server error occurred.",
                "parameter " + std::to_string(index) + " is out of range for: " + sql_.text};
  return params_[index - 1];
}

PostgresCursor::ParamArrays PostgresCursor::param_arrays() const {
  ParamArrays arrays;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const auto& param = params_[i];
    arrays.values.push_back(param.value ? param.value->c_str() : nullptr);
    arrays.lengths.push_back(param.value ? int(param.value->size()) : 0);
    arrays.formats.push_back(param.blob ? kBinaryFormat : kTextFormat);
    // Text, integers and NULL leave the type to the server, which infers it from the context
    // (a column, `OR $1`); only raw bytes need saying so, and a number the SQL never uses
    // (one query of a pair that share their binds) has no context: text then.
    bool used = i + 1 < sql_.used.size() && sql_.used[i + 1];
    arrays.types.push_back(param.blob ? kByteaOid : (used ? 0 : kTextOid));
  }
  return arrays;
}

PostgresDatabase::Result PostgresCursor::execute() {
  PGconn* conn = db_.conn_.get();
  auto arrays = param_arrays();
  int count = int(params_.size());
  if (!cached())
    return db_.checked(
        PQexecParams(conn, sql_.text.c_str(), count, arrays.types.data(), arrays.values.data(),
                     arrays.lengths.data(), arrays.formats.data(), kTextFormat),
        sql_.text);
  // Prepared statements belong to the server session: a reconnect needs them again.
  if (prepared_on_ != db_.generation_) {
    db_.checked(PQprepare(conn, name_.c_str(), sql_.text.c_str(), count, arrays.types.data()),
                sql_.text);
    prepared_on_ = db_.generation_;
  }
  return db_.checked(PQexecPrepared(conn, name_.c_str(), count, arrays.values.data(),
                                    arrays.lengths.data(), arrays.formats.data(), kTextFormat),
                     sql_.text);
}

bool PostgresCursor::step() {
  if (!result_) {
    result_ = execute();
    row_ = 0;
  } else {
    ++row_;
  }
  if (row_ < PQntuples(result_.get())) return true;
  // As SQLite after SQLITE_DONE: the next step runs the statement again.
  result_.reset();
  row_ = -1;
  return false;
}

int PostgresCursor::run() {
  result_.reset();
  row_ = -1;
  auto result = execute();
  return std::atoi(PQcmdTuples(result.get()));
}

bool PostgresCursor::on_row(int column) const {
  return result_ && row_ >= 0 && column >= 0 && column < PQnfields(result_.get());
}

std::string PostgresCursor::text(int column) const {
  if (!on_row(column) || PQgetisnull(result_.get(), row_, column)) return {};
  std::string_view value(PQgetvalue(result_.get(), row_, column),
                         PQgetlength(result_.get(), row_, column));
  if (PQftype(result_.get(), column) == kByteaOid) return decode_bytea(value);
  return std::string(value);
}

std::int64_t PostgresCursor::integer(int column) const {
  if (!on_row(column) || PQgetisnull(result_.get(), row_, column)) return 0;
  return parse_integer({PQgetvalue(result_.get(), row_, column),
                        std::size_t(PQgetlength(result_.get(), row_, column))});
}

bool PostgresCursor::is_null(int column) const {
  return !on_row(column) || PQgetisnull(result_.get(), row_, column);
}

void PostgresDatabase::ConnectionCloser::operator()(pg_conn* conn) const {
  PQfinish(conn);
}

void PostgresDatabase::ResultClearer::operator()(pg_result* result) const {
  PQclear(result);
}

PostgresDatabase::PostgresDatabase(const std::string& url) : conn_(PQconnectdb(url.c_str())) {
  if (!conn_) throw Error{ErrorCode::unavailable, "Cannot connect to PostgreSQL.", "out of memory"};
  if (PQstatus(conn_.get()) != CONNECTION_OK) {
    std::string detail = PQerrorMessage(conn_.get());
    while (!detail.empty() && detail.back() == '\n') detail.pop_back();
    // The detail names the host and port; the URL itself may hold a password.
    throw Error{ErrorCode::unavailable, "Cannot connect to PostgreSQL.", detail};
  }
  PQsetNoticeReceiver(conn_.get(), log_notice, nullptr);
  configure_session();
}

// Cached cursors go before conn_ (declared after it); PQfinish drops their server statements.
PostgresDatabase::~PostgresDatabase() = default;

void PostgresDatabase::configure_session() {
  // Times are stored as integers, but now() and dates in messages should not depend on the
  // server's zone; UTF8 is what the store reads and writes.
  checked(PQexec(conn_.get(), "SET client_encoding TO 'UTF8'; SET TIME ZONE 'UTC'"),
          "session settings");
}

PostgresDatabase::Result PostgresDatabase::checked(pg_result* raw, std::string_view sql) {
  Result result(raw);
  note_transaction_status();
  auto status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && status != PGRES_EMPTY_QUERY)
    fail(conn_.get(), result.get(), sql);
  return result;
}

void PostgresDatabase::note_transaction_status() {
  auto status = PQtransactionStatus(conn_.get());
  // Unknown: the connection is gone, and whether it was in a transaction is what we knew.
  if (status != PQTRANS_UNKNOWN) in_transaction_ = status != PQTRANS_IDLE;
}

void PostgresDatabase::reconnect_if_lost(bool ends_transaction) {
  if (PQstatus(conn_.get()) == CONNECTION_OK) return;
  if (in_transaction_) {
    // The transaction died with its connection: its statements fail until the caller ends it
    // (COMMIT or ROLLBACK through exec), rather than run outside it on a new connection.
    if (ends_transaction) in_transaction_ = false;
    fail_lost(conn_.get());
  }
  // Once per acquire: a server that is still down costs one connection attempt, not a loop.
  PQreset(conn_.get());
  if (PQstatus(conn_.get()) != CONNECTION_OK) fail_lost(conn_.get());
  ++generation_;
  configure_session();
}

void PostgresDatabase::exec(const char* sql) {
  reconnect_if_lost(true);
  checked(PQexec(conn_.get(), sql), sql);
}

void PostgresDatabase::start_transaction(const char* sql) {
  in_transaction_ = false;  // a lost transaction is over once a new one starts
  reconnect_if_lost(false);
  checked(PQexec(conn_.get(), sql), sql);
}

void PostgresDatabase::begin_write() {
  start_transaction("BEGIN");
}

void PostgresDatabase::begin_read() {
  start_transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
}

sqlite::Cursor* PostgresDatabase::acquire(std::string_view sql) {
  reconnect_if_lost(false);
  auto it = cache_.find(sql);
  if (it != cache_.end() && !it->second->in_use) {
    it->second->in_use = true;
    return it->second.get();
  }
  PlaceholderSql rewritten = it != cache_.end() ? it->second->sql() : rewrite_placeholders(sql);
  if (it == cache_.end() && cache_.size() < kMaxCachedStatements) {
    auto name = "berth_" + std::to_string(++next_statement_id_);
    auto cursor = std::make_unique<PostgresCursor>(*this, std::move(rewritten), std::move(name));
    cursor->in_use = true;
    return cache_.emplace(std::string(sql), std::move(cursor)).first->second.get();
  }
  auto cursor = std::make_unique<PostgresCursor>(*this, std::move(rewritten), std::string());
  auto* raw = cursor.get();
  loose_.emplace(raw, std::move(cursor));
  return raw;
}

void PostgresDatabase::release(sqlite::Cursor* cursor) {
  auto* postgres = static_cast<PostgresCursor*>(cursor);
  if (!postgres->cached()) {
    loose_.erase(cursor);
    return;
  }
  postgres->reset();
  postgres->in_use = false;
}

}  // namespace berth::store::postgres
