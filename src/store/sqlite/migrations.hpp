#pragma once

#include "store/sqlite/statement.hpp"

namespace berth::store::sqlite {

// Brings the schema up to date, one numbered migration per transaction. A database written
// by a newer Berth (a version we do not know) is refused with Error{unavailable}.
void migrate(Database& db);

// The newest schema version this build knows.
int latest_schema_version();

}  // namespace berth::store::sqlite
