#include "support/test_store.hpp"

#include <libpq-fe.h>
#include <sqlite3.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include "common/uuid.hpp"
#include "store/postgres/postgres_store.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace berth::testing {

namespace {

std::string server_url() {
  const char* file = std::getenv("BERTH_TEST_POSTGRES_URL_FILE");
  if (!file) throw std::runtime_error("not on PostgreSQL: BERTH_TEST_POSTGRES_URL_FILE is not set");
  std::ifstream in(file);
  std::string url;
  if (!std::getline(in, url) || url.empty())
    throw std::runtime_error(std::string("no PostgreSQL server URL in ") + file +
                             " (is the `postgres` CTest fixture running?)");
  return url;
}

// The URL with its database (the path after the authority) replaced.
std::string with_database(const std::string& url, const std::string& database) {
  auto authority = url.find("://");
  auto slash = url.find('/', authority == std::string::npos ? 0 : authority + 3);
  return url.substr(0, slash) + "/" + database;
}

}  // namespace

bool on_postgres() {
  return std::getenv("BERTH_TEST_POSTGRES_URL_FILE") != nullptr;
}

std::string new_postgres_database() {
  auto url = server_url();
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(url.c_str()), PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK)
    throw std::runtime_error("cannot reach the test PostgreSQL server: " +
                             std::string(PQerrorMessage(conn.get())));
  auto name = "t_" + Uuid::random_v4().to_string();
  for (auto& c : name)
    if (c == '-') c = '_';
  std::unique_ptr<PGresult, decltype(&PQclear)> result(
      PQexec(conn.get(), ("CREATE DATABASE " + name).c_str()), PQclear);
  if (PQresultStatus(result.get()) != PGRES_COMMAND_OK)
    throw std::runtime_error("CREATE DATABASE failed: " + std::string(PQerrorMessage(conn.get())));
  return with_database(url, name);
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
