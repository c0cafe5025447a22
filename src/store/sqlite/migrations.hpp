#pragma once

#include <limits>

#include "store/sqlite/statement.hpp"

namespace berth::store::sqlite {

// Brings the schema up to date, one numbered migration per transaction. A database written
// by a newer Berth (a version we do not know) is refused with Error{unavailable}. `up_to`
// stops at an older version (tests of upgrades from it).
void migrate(Database& db, int up_to = std::numeric_limits<int>::max());

// The newest schema version this build knows.
int latest_schema_version();

}  // namespace berth::store::sqlite
