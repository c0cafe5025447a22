#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "coderd/api_keys.hpp"
#include "common/clock.hpp"
#include "http/rate_limiter.hpp"
#include "http/request.hpp"

namespace berth::api {

// Coder's request limits per minute (`--api-rate-limit`, its login limit), each counted per
// caller and per endpoint path; zero or less turns one off.
struct RateLimitSettings {
  std::int64_t api = 512;
  std::int64_t login = 60;
};

// Whom a request is counted against: a signed-in user, an agent, or an address.
struct RateLimitCaller {
  std::string key;          // "user:<id>", "agent:<id>" or "ip:<address>"
  bool may_bypass = false;  // an owner may skip the limits with X-Coder-Bypass-Ratelimit
};

// The limits of one server, applied by the route table before each handler.
class RateLimits {
 public:
  RateLimits(const Clock& clock, RateLimitSettings settings);

  // The answer for a request over its limit (429, or 428 for a bypass header from a caller
  // who is not an owner), or nothing, with X-Ratelimit-* headers to add to the answer.
  struct Verdict {
    std::optional<http::Response> refusal;
    std::vector<std::pair<std::string, std::string>> headers;
  };
  Verdict check(const http::Request& request, const RateLimitCaller& caller);

 private:
  static Verdict apply(http::RateLimiter& limiter, const std::string& key);

  std::unique_ptr<http::RateLimiter> api_;    // null when off
  std::unique_ptr<http::RateLimiter> login_;  // null when off
};

}  // namespace berth::api
