#include "api/query.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "common/error.hpp"
#include "common/time.hpp"

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

// The query is lowercased before parsing; timestamps want their `T` and `Z` back.
std::string upper(std::string text) {
  for (auto& c : text) c = char(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

bool parse_bool(const std::string& key, const std::string& value) {
  if (value == "true") return true;
  if (value == "false") return false;
  invalid_search(key, fmt::format("Query param \"{}\" must be a valid boolean: "
                                  "strconv.ParseBool: parsing \"{}\": invalid syntax",
                                  key, value));
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

bool parse_query_bool(const http::Request& request, const char* name, bool fallback) {
  std::vector<Validation> problems;
  auto value = single(request, name, problems);
  if (problems.empty() && !value) return fallback;
  if (value) {
    for (const char* yes : {"1", "t", "T", "TRUE", "true", "True"})
      if (*value == yes) return true;
    for (const char* no : {"0", "f", "F", "FALSE", "false", "False"})
      if (*value == no) return false;
    problems.push_back({name, fmt::format("Query param \"{}\" must be a valid boolean: "
                                          "strconv.ParseBool: parsing \"{}\": invalid syntax",
                                          name, *value)});
  }
  throw Error{ErrorCode::invalid, "Invalid query parameters.", {}, problems};
}

std::vector<SearchTerm> parse_search_terms(const std::string& query, const std::string& message) {
  auto invalid = [&](std::string detail) {
    throw Error{ErrorCode::invalid, message, {}, {{"q", std::move(detail)}}};
  };
  // First pass: elements split on unquoted spaces, quotes kept.
  std::vector<std::string> elements;
  std::string current;
  bool quoted = false;
  for (char c : query) {
    if (c == '"') quoted = !quoted;
    if (c == ' ' && !quoted) {
      if (!current.empty()) elements.push_back(std::move(current));
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty()) elements.push_back(std::move(current));
  // Second pass: each element split on unquoted colons, quotes dropped.
  std::vector<SearchTerm> out;
  for (const auto& element : elements) {
    if (element.front() == ':' || element.back() == ':')
      invalid(fmt::format("Query element \"{}\" cannot start or end with ':'", element));
    std::vector<std::string> parts(1);
    quoted = false;
    for (char c : element) {
      if (c == '"')
        quoted = !quoted;
      else if (c == ':' && !quoted)
        parts.emplace_back();
      else
        parts.back() += c;
    }
    if (parts.size() > 2)
      invalid(fmt::format("Query element \"{}\" can only contain 1 ':'", element));
    SearchTerm term;
    if (parts.size() == 2) {
      term.has_key = true;
      term.key = parts[0];
      std::transform(term.key.begin(), term.key.end(), term.key.begin(),
                     [](unsigned char c) { return char(std::tolower(c)); });
      term.value = parts[1];
    } else {
      term.value = parts[0];
    }
    out.push_back(std::move(term));
  }
  return out;
}

store::ListUsersParams parse_user_search(const std::string& raw) {
  std::string query = raw;
  std::transform(query.begin(), query.end(), query.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  store::ListUsersParams params;
  for (const auto& term : parse_search_terms(query, "Invalid user search query.")) {
    if (!term.has_key) {
      params.search += (params.search.empty() ? "" : " ") + term.value;
      continue;
    }
    const auto& key = term.key;
    auto values = split_csv(term.value);
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
      for (const auto& v : values)
        if (v != "password" && v != "github" && v != "oidc" && v != "token" && v != "none")
          invalid_search("login_type", fmt::format("Query param \"login_type\" has invalid "
                                                   "values: \"{}\" is not a valid value",
                                                   v));
      params.login_types = values;
    } else if (key == "name") {
      params.name = term.value;
    } else if (key == "service_account") {
      // Berth has no service accounts: `true` matches nobody, `false` everybody.
      if (parse_bool(key, term.value)) params.match_none = true;
    } else if (key == "github_com_user_id") {
      std::int64_t id = 0;
      const auto& text = term.value;
      auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
      if (ec != std::errc{} || ptr != text.data() + text.size())
        invalid_search(key, fmt::format("Query param \"{}\" must be a valid 64-bit integer: "
                                        "strconv.ParseInt: parsing \"{}\": invalid syntax",
                                        key, text));
      // Nobody signs in with GitHub on Berth.
      if (id != 0) params.match_none = true;
    } else if (key == "created_after" || key == "created_before" || key == "last_seen_after" ||
               key == "last_seen_before") {
      auto t = parse_rfc3339(upper(term.value));
      if (!t)
        invalid_search(key, fmt::format("Query param \"{}\" must be a valid date format "
                                        "(2006-01-02T15:04:05.999999999Z07:00)",
                                        key));
      (key == "created_after"     ? params.created_after
       : key == "created_before"  ? params.created_before
       : key == "last_seen_after" ? params.last_seen_after
                                  : params.last_seen_before) = t;
    } else {
      invalid_search(key, fmt::format("\"{}\" is not a valid query param", key));
    }
  }
  return params;
}

}  // namespace berth::api
