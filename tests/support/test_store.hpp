#pragma once

#include <memory>
#include <string>
#include <vector>

#include "store/store.hpp"
#include "support/temp_dir.hpp"

namespace berth::testing {

// Whether this test keeps its data in PostgreSQL: CTest sets BERTH_TEST_POSTGRES_URL_FILE on
// the PostgreSQL variants of the suites (prefix and label `postgres`), which share one server
// started by the `postgres` fixture (scripts/postgres-test-server.sh); the file has its URL.
bool on_postgres();

// A new, empty database on the run's PostgreSQL server; its URL. Throws when there is none.
std::string new_postgres_database();

// The PostgreSQL database of the test data directory `dir` (created the first time).
std::string postgres_database_for(const std::string& dir);

// What `berth server --data-dir <data_dir>` needs besides to keep its data where the test's
// other reads look: `--postgres-url <its database>` on PostgreSQL, nothing on SQLite.
std::vector<std::string> store_flags(const std::string& data_dir);

// Runs `sql` on the database of a test server or store in `data_dir` (its berth.db, or its
// PostgreSQL database), as a person with a database shell would; throws on failure.
void exec_sql(const std::string& data_dir, const std::string& sql);

// The store a test works on: a SQLite file in `dir`, or a PostgreSQL database when
// on_postgres() (created for `dir` the first time, reopened after).
std::unique_ptr<store::Store> open_test_store(const TempDir& dir);

}  // namespace berth::testing
