#pragma once

#include <memory>
#include <string>

#include "store/store.hpp"

namespace berth::store::postgres {

// The store on a PostgreSQL database: the same SQL, pool and transactions as the SQLite
// backend, over libpq connections. Migrates the schema first (once, however many replicas
// start together). Throws Error{unavailable} when the database cannot be reached.
std::unique_ptr<Store> open_store(const std::string& url);

}  // namespace berth::store::postgres
