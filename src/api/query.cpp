#include "api/query.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "common/error.hpp"

namespace berth::api {

namespace {

// Coder treats a parameter given more than once as an error and an empty one as absent.
std::optional<std::string> single(const http::Request& request, const char* name,
                                  std::vector<Validation>& problems) {
  auto values = request.query_values(name);
  if (values.size() > 1) {
    problems.push_back({name, fmt::format("Query param \"{}\" provided more than once, found {} "
                                          "times. Only provide 1 instance of this query param.",
                                          name, values.size())});
    return std::nullopt;
  }
  if (values.empty() || values[0].empty()) return std::nullopt;
  return values[0];
}

std::int64_t non_negative_int32(const std::string& text, const char* name,
                                std::vector<Validation>& problems) {
  std::int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  std::string reason;
  if (ec != std::errc{} || ptr != text.data() + text.size())
    reason = fmt::format("strconv.ParseInt: parsing \"{}\": invalid syntax", text);
  else if (value < 0)
    reason = "value is negative";
  else if (value > INT32_MAX)
    reason = fmt::format("strconv.ParseInt: parsing \"{}\": value out of range", text);
  if (!reason.empty()) {
    problems.push_back(
        {name, fmt::format("Query param \"{}\" must be a valid 32-bit positive integer: {}", name,
                           reason)});
    return 0;
  }
  return value;
}

std::vector<std::string> split_csv(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

[[noreturn]] void invalid_search(std::string field, std::string detail) {
  throw Error{ErrorCode::invalid,
              "Invalid user search query.",
              {},
              {{std::move(field), std::move(detail)}}};
}

}  // namespace

Pagination parse_pagination(const http::Request& request) {
  std::vector<Validation> problems;
  Pagination p;
  if (auto v = single(request, "limit", problems))
    p.limit = non_negative_int32(*v, "limit", problems);
  if (auto v = single(request, "offset", problems))
    p.offset = non_negative_int32(*v, "offset", problems);
  if (auto v = single(request, "after_id", problems)) {
    p.after_id = Uuid::parse(*v);
    if (!p.after_id)
      problems.push_back({"after_id", "Query param \"after_id\" must be a valid uuid"});
  }
  if (!problems.empty())
    throw Error{ErrorCode::invalid, "Query parameters have invalid values.", {}, problems};
  return p;
}

std::vector<std::string> split_search_terms(const std::string& query) {
  std::vector<std::string> terms;
  std::string current;
  bool quoted = false;
  for (char c : query) {
    if (c == '"') {
      quoted = !quoted;
    } else if (c == ' ' && !quoted) {
      if (!current.empty()) terms.push_back(std::move(current));
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty()) terms.push_back(std::move(current));
  return terms;
}

store::ListUsersParams parse_user_search(const std::string& raw) {
  std::string query = raw;
  std::transform(query.begin(), query.end(), query.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  store::ListUsersParams params;
  for (const auto& term : split_search_terms(query)) {
    auto colon = term.find(':');
    if (colon == std::string::npos) {
      params.search += (params.search.empty() ? "" : " ") + term;
      continue;
    }
    if (colon == 0 || colon + 1 == term.size())
      invalid_search("q", fmt::format("Query element \"{}\" cannot start or end with ':'", term));
    if (term.find(':', colon + 1) != std::string::npos)
      invalid_search("q", fmt::format("Query element \"{}\" can only contain 1 ':'", term));
    auto key = term.substr(0, colon);
    auto values = split_csv(term.substr(colon + 1));
    if (key == "search") {
      params.search = values.empty() ? "" : values[0];
    } else if (key == "status") {
      for (const auto& v : values)
        if (v != "active" && v != "dormant" && v != "suspended")
          invalid_search("status", fmt::format("Query param \"status\" has invalid values: \"{}\" "
                                               "is not a valid value",
                                               v));
      params.statuses = values;
    } else if (key == "role") {
      params.rbac_roles = values;
    } else if (key == "login_type") {
      params.login_types = values;
    } else {
      invalid_search(key, fmt::format("\"{}\" is not a valid query param", key));
    }
  }
  return params;
}

}  // namespace berth::api
