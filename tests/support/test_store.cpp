#include "support/test_store.hpp"

#include <libpq-fe.h>
#include <sqlite3.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include "store/postgres/postgres_store.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "support/postgres_server.hpp"

namespace berth::testing {

bool on_postgres() {
  return std::getenv("BERTH_TEST_POSTGRES_URL_FILE") != nullptr;
}

std::string new_postgres_database() {
  if (!on_postgres()) throw std::runtime_error("not on PostgreSQL: no shared test server");
  // Attached to the run's shared server, which it leaves running; the name gets a suffix.
  return PostgresServer().create_database("t");
}

std::string postgres_database_for(const std::string& dir) {
  // One database per directory, as one SQLite file: asking again gives the same one.
  auto noted = dir + "/postgres-url";
  std::string url;
  if (std::ifstream in(noted); !std::getline(in, url) || url.empty()) {
    url = new_postgres_database();
    std::ofstream(noted) << url << "\n";
  }
  return url;
}

std::vector<std::string> store_flags(const std::string& data_dir) {
  if (!on_postgres()) return {};
  return {"--postgres-url", postgres_database_for(data_dir)};
}

void exec_sql(const std::string& data_dir, const std::string& sql) {
  if (on_postgres()) {
    auto url = postgres_database_for(data_dir);
    std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(url.c_str()), PQfinish);
    std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(conn.get(), sql.c_str()), PQclear);
    auto status = PQresultStatus(result.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
      throw std::runtime_error(sql + ": " + PQerrorMessage(conn.get()));
    return;
  }
  sqlite3* raw = nullptr;
  int rc = sqlite3_open((data_dir + "/berth.db").c_str(), &raw);
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> db(raw, sqlite3_close);
  if (rc != SQLITE_OK) throw std::runtime_error("cannot open " + data_dir + "/berth.db");
  sqlite3_busy_timeout(db.get(), 5000);
  char* message = nullptr;
  if (sqlite3_exec(db.get(), sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    std::string detail = message ? message : "";
    sqlite3_free(message);
    throw std::runtime_error(sql + ": " + detail);
  }
}

std::unique_ptr<store::Store> open_test_store(const TempDir& dir) {
  if (on_postgres()) return store::postgres::open_store(postgres_database_for(dir.path().string()));
  return std::make_unique<store::sqlite::SqliteStore>(dir.file("berth.db"));
}

}  // namespace berth::testing
