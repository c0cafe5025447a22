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

// A boolean query parameter as Coder's QueryParamParser reads it (strconv.ParseBool: 1, t, T,
// TRUE, true, True and their false forms); absent or empty gives `fallback`. Anything else, or
// the parameter given twice, throws 400 "Invalid query parameters." with a validation on it.
bool parse_query_bool(const http::Request& request, const char* name, bool fallback);

// One element of a search query: `key:value`, or a bare word (has_key false, in value).
struct SearchTerm {
  bool has_key = false;
  std::string key;  // lowercased
  std::string value;
};

// Coder's searchquery grammar: space-separated elements, quotes keep spaces and colons
// inside one element or value (`last_used_after:"2024-01-01T00:00:00Z"`). A malformed element
// throws 400 with `message` and a validation on `q`.
std::vector<SearchTerm> parse_search_terms(const std::string& query, const std::string& message);

// Parses `GET /users?q=` (status:, role:, login_type:, search:, bare words).
store::ListUsersParams parse_user_search(const std::string& query);

}  // namespace berth::api
