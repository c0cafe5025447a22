#include "api/rate_limits.hpp"

#include <fmt/format.h>

#include <chrono>

#include "common/error.hpp"
#include "http/error_response.hpp"

namespace berth::api {

namespace {

using namespace std::chrono_literals;

constexpr const char* kBypassHeader = "x-coder-bypass-ratelimit";

std::unique_ptr<http::RateLimiter> limiter(const Clock& clock, std::int64_t per_minute) {
  if (per_minute <= 0) return nullptr;
  return std::make_unique<http::RateLimiter>(clock, per_minute, 60s);
}

// Go's strconv.ParseBool, which Coder reads the bypass header with.
bool parse_go_bool(std::string_view v) {
  return v == "1" || v == "t" || v == "T" || v == "true" || v == "TRUE" || v == "True";
}

}  // namespace

RateLimits::RateLimits(const Clock& clock, RateLimitSettings settings)
    : api_(limiter(clock, settings.api)), login_(limiter(clock, settings.login)) {}

RateLimits::Verdict RateLimits::apply(http::RateLimiter& limiter, const std::string& key) {
  auto d = limiter.hit(key);
  Verdict v;
  v.headers = {{"X-Ratelimit-Limit", std::to_string(d.limit)},
               {"X-Ratelimit-Remaining", std::to_string(d.remaining)},
               {"X-Ratelimit-Reset", std::to_string(to_unix_micros(d.reset) / 1'000'000)}};
  if (d.allowed) return v;
  // Coder prints the window as Go prints a time.Duration.
  auto refusal = http::error_response(Error{
      ErrorCode::rate_limited,
      fmt::format("You've been rate limited for sending more than {} requests in 1m0s.", d.limit)});
  for (const auto& [name, value] : v.headers) refusal.set_header(name, value);
  refusal.set_header("Retry-After", std::to_string(d.retry_after.count()));
  v.refusal = std::move(refusal);
  return v;
}

RateLimits::Verdict RateLimits::check(const http::Request& request, const RateLimitCaller& caller) {
  if (auto bypass = request.header(kBypassHeader); bypass && parse_go_bool(*bypass)) {
    if (caller.may_bypass) return {};
    auto refusal = http::error_response(
        Error{ErrorCode::invalid, "\"X-Coder-Bypass-Ratelimit\" provided but user is not owner"});
    refusal.status = 428;  // what Coder's limiter answers when it cannot key the request
    return {std::move(refusal), {}};
  }
  const auto& path = request.path;
  std::string key = caller.key + " " + path;
  if (login_ && request.method == "POST" && path == "/api/v2/users/login") {
    auto v = apply(*login_, key);
    if (v.refusal) return v;
  }
  if (!api_ || path.rfind("/api/", 0) != 0) return {};
  return apply(*api_, key);
}

}  // namespace berth::api
