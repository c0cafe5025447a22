#include "store/postgres/postgres_store.hpp"

#include "store/postgres/migrations.hpp"
#include "store/postgres/postgres_database.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace berth::store::postgres {

std::unique_ptr<Store> open_store(const std::string& url) {
  auto writer = std::make_unique<PostgresDatabase>(url);
  migrate(*writer);
  return std::make_unique<sqlite::SqliteStore>(std::move(writer), [url] {
    auto reader = std::make_unique<PostgresDatabase>(url);
    // As SQLite's readers are query_only: a write through a reader is a bug, not a change.
    reader->exec("SET default_transaction_read_only = on");
    return reader;
  });
}

}  // namespace berth::store::postgres
