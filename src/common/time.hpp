#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace berth {

// Wall-clock instants at the precision Coder's database keeps (microseconds).
using TimePoint = std::chrono::sys_time<std::chrono::microseconds>;

// RFC 3339 in UTC with trailing zeros of the fraction dropped, as Go's RFC3339Nano prints.
std::string format_rfc3339(TimePoint t);

// Accepts RFC 3339 with any fraction and a `Z` or `±hh:mm` offset; nullopt if malformed.
std::optional<TimePoint> parse_rfc3339(std::string_view text);

std::int64_t to_unix_micros(TimePoint t);
TimePoint from_unix_micros(std::int64_t micros);

}  // namespace berth
