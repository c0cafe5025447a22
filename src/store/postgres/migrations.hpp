#pragma once

#include <limits>

#include "store/sqlite/statement.hpp"

namespace berth::store::postgres {

// Brings a PostgreSQL database's schema up to date: the same numbered migrations as SQLite's
// (store/sqlite/migrations.cpp), written for PostgreSQL, one per transaction. Holds a session
// advisory lock meanwhile, so that replicas starting together migrate once. A database written
// by a newer Berth (a version we do not know) is refused with Error{unavailable}. `up_to`
// stops at an older version (tests of upgrades from it).
void migrate(sqlite::Database& db, int up_to = std::numeric_limits<int>::max());

// The newest schema version this build knows; the same number as sqlite::latest_schema_version().
int latest_schema_version();

}  // namespace berth::store::postgres
