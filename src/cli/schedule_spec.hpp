#pragma once

#include <chrono>
#include <string>
#include <string_view>

// The human forms of schedules the CLI accepts, turned into what the API takes.
namespace berth::cli {

// Go-style durations: "8h", "1h30m", "90s", "2d"; throws Error{invalid} naming the text.
std::chrono::milliseconds parse_duration(std::string_view text);

// "Mon-Fri 09:00 Europe/Berlin", "9:30AM Mon-Fri", "09:00" (every day) in any order, or a
// cron string ("CRON_TZ=Europe/Berlin 0 9 * * 1-5", passed through); "manual" gives "".
// Without a zone, $TZ or UTC is used.
std::string parse_start_at(std::string_view text);

// "09:00 Mon-Fri (Europe/Berlin)" for "CRON_TZ=Europe/Berlin 0 9 * * Mon-Fri"; anything else
// unchanged, and "-" for empty.
std::string describe_schedule(const std::string& cron);

}  // namespace berth::cli
