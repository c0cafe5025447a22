#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/uuid.hpp"
#include "http/request.hpp"
#include "store/rows.hpp"

namespace berth::api {

// `limit`, `offset` and `after_id` as Coder's pagination parser reads them.
struct Pagination {
  std::optional<Uuid> after_id;
  std::int64_t limit = 0;
  std::int64_t offset = 0;
};

// Parses the pagination parameters; bad values throw 400 "Query parameters have invalid
// values." with a validation per parameter.
Pagination parse_pagination(const http::Request& request);

// Splits a search query into terms, keeping quoted phrases together (Coder's searchquery).
std::vector<std::string> split_search_terms(const std::string& query);

// Parses `GET /users?q=` (status:, role:, login_type:, search:, bare words).
store::ListUsersParams parse_user_search(const std::string& query);

}  // namespace berth::api
