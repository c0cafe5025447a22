#include "coderd/schedule.hpp"

#include <date/tz.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <sstream>
#include <vector>

#include "common/error.hpp"

namespace berth::coderd {

namespace {

[[noreturn]] void invalid(const std::string& why) {
  throw Error{ErrorCode::invalid, "validate weekly schedule: " + why};
}

int parse_value(std::string_view text, bool weekday) {
  static constexpr const char* kDays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
  if (weekday && text.size() == 3) {
    std::string lower(text);
    for (auto& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
    for (int i = 0; i < 7; ++i)
      if (lower == kDays[i]) return i;
  }
  int value = -1;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || ptr != text.data() + text.size())
    invalid(fmt::format("failed to parse int from {}: invalid syntax", text));
  return value;
}

// One cron field (`*`, `a`, `a-b`, with `/step`, comma lists) into a set of values in [lo, hi].
template <std::size_t N>
std::bitset<N> parse_field(std::string_view field, int lo, int hi, bool weekday) {
  std::bitset<N> out;
  std::size_t start = 0;
  while (start <= field.size()) {
    auto end = field.find(',', start);
    if (end == std::string_view::npos) end = field.size();
    auto part = field.substr(start, end - start);
    int step = 1;
    if (auto slash = part.find('/'); slash != std::string_view::npos) {
      step = parse_value(part.substr(slash + 1), false);
      part = part.substr(0, slash);
      if (step <= 0) invalid(fmt::format("step of range should be a positive number: {}", field));
    }
    int from = lo, to = hi;
    if (part != "*") {
      auto dash = part.find('-');
      from = parse_value(part.substr(0, dash), weekday);
      to = dash == std::string_view::npos ? from : parse_value(part.substr(dash + 1), weekday);
      if (dash == std::string_view::npos && step > 1) to = hi;
    }
    if (weekday && to == 7) to = 6, out.set(0);  // 7 is Sunday too
    if (from < lo || to > hi || from > to)
      invalid(fmt::format("end of range ({}) above maximum ({}): {}", to, hi, field));
    // 64-bit: a step up to INT_MAX past the last value must not overflow.
    for (std::int64_t v = from; v <= to; v += step) out.set(std::size_t(v - (weekday ? 0 : lo)));
    start = end + 1;
  }
  return out;
}

}  // namespace

WeeklySchedule WeeklySchedule::parse(std::string_view text) {
  WeeklySchedule s;
  std::string rest(text);
  if (rest.rfind("CRON_TZ=", 0) == 0) {
    auto space = rest.find(' ');
    if (space == std::string::npos)
      invalid(
          "expected schedule to consist of 5 fields with an optional CRON_TZ=<timezone> prefix");
    s.zone_ = rest.substr(8, space - 8);
    rest = rest.substr(space + 1);
    try {
      date::locate_zone(s.zone_);
    } catch (const std::exception&) {
      throw Error{ErrorCode::invalid,
                  fmt::format("parse schedule: provided bad location {}: unknown time zone {}",
                              s.zone_, s.zone_)};
    }
  }
  std::istringstream in(rest);
  std::vector<std::string> fields;
  for (std::string f; in >> f;) fields.push_back(f);
  if (fields.size() != 5)
    invalid("expected schedule to consist of 5 fields with an optional CRON_TZ=<timezone> prefix");
  if (fields[2] != "*" || fields[3] != "*") invalid("expected day-of-month and month to be *");
  s.minutes_ = parse_field<60>(fields[0], 0, 59, false);
  s.hours_ = parse_field<24>(fields[1], 0, 23, false);
  s.weekdays_ = parse_field<7>(fields[4], 0, 6, true);
  return s;
}

std::optional<TimePoint> WeeklySchedule::next(TimePoint after, std::chrono::hours within) const {
  using namespace std::chrono;
  const auto* tz = date::locate_zone(zone_);
  auto local_after = tz->to_local(after);
  auto day = floor<days>(local_after);
  auto limit = after + within;
  for (int d = 0; d <= within.count() / 24 + 1; ++d, day += days(1)) {
    unsigned weekday = date::weekday(date::local_days(day)).c_encoding();
    if (!weekdays_.test(weekday)) continue;
    for (int h = 0; h < 24; ++h) {
      if (!hours_.test(std::size_t(h))) continue;
      for (int m = 0; m < 60; ++m) {
        if (!minutes_.test(std::size_t(m))) continue;
        auto local = date::local_seconds(day) + hours(h) + minutes(m);
        auto info = tz->get_info(local);
        // A wall time skipped by a daylight-saving jump does not occur that day.
        if (info.result == date::local_info::nonexistent) continue;
        auto utc = info.result == date::local_info::unique ? local - info.first.offset
                                                           : local - info.first.offset;
        TimePoint t = floor<microseconds>(sys_seconds(utc.time_since_epoch()));
        if (t <= after) continue;
        if (t > limit) return std::nullopt;
        return t;
      }
    }
  }
  return std::nullopt;
}

WeeklySchedule WeeklySchedule::parse_daily(std::string_view text) {
  std::string rest(text);
  if (rest.rfind("CRON_TZ=", 0) == 0) rest = rest.substr(std::min(rest.size(), rest.find(' ')));
  std::istringstream in(rest);
  std::vector<std::string> fields;
  for (std::string f; in >> f;) fields.push_back(f);
  if (fields.size() == 5 && (fields[2] != "*" || fields[3] != "*" || fields[4] != "*"))
    throw Error{ErrorCode::invalid,
                "parse daily schedule: expected day-of-month, month and day-of-week to be *"};
  WeeklySchedule s;
  try {
    s = parse(text);
  } catch (const Error& e) {
    std::string why = e.message();
    if (why.rfind("validate weekly schedule: ", 0) == 0) why = why.substr(26);
    throw Error{ErrorCode::invalid, "parse daily schedule: " + why};
  }
  if (s.minutes_.count() != 1 || s.hours_.count() != 1)
    throw Error{ErrorCode::invalid,
                "parse daily schedule: schedule must have a single minute and a single hour"};
  return s;
}

std::string WeeklySchedule::time_of_day() const {
  int h = 0, m = 0;
  while (h < 23 && !hours_.test(std::size_t(h))) ++h;
  while (m < 59 && !minutes_.test(std::size_t(m))) ++m;
  return fmt::format("{:02}:{:02}", h, m);
}

int WeeklySchedule::weekday_at(TimePoint t) const {
  auto local = date::locate_zone(zone_)->to_local(t);
  return int(date::weekday(date::floor<date::days>(local)).c_encoding());
}

namespace {

using date::local_days;

constexpr const char* kWeekdayNames[] = {"sunday",   "monday", "tuesday", "wednesday",
                                         "thursday", "friday", "saturday"};

// Midnight of a local day as a UTC instant (a midnight skipped by a DST jump: the jump).
TimePoint midnight(const date::time_zone* tz, local_days day) {
  auto sys = tz->to_sys(date::local_seconds(day), date::choose::earliest);
  return std::chrono::floor<std::chrono::microseconds>(sys);
}

// The Monday starting the next week (counted from the epoch Monday) whose number is a
// multiple of `weeks`; `day` itself when its week already is one.
local_days next_applicable_monday(local_days day, std::int64_t weeks) {
  constexpr local_days kEpoch = date::local_days(date::year(2023) / 1 / 2);
  auto since = (day - kEpoch).count();
  if (since < 0) return day;  // a clock before 2023: Coder refuses; every week applies here
  auto week = since / 7;
  auto remainder = week % weeks;
  if (remainder == 0) return day;
  return kEpoch + date::days((week + weeks - remainder) * 7);
}

}  // namespace

std::optional<TimePoint> autostop_requirement_deadline(const WeeklySchedule& quiet_hours,
                                                       const std::vector<std::string>& days,
                                                       std::int64_t weeks, TimePoint now) {
  using namespace std::chrono;
  if (days.empty()) return std::nullopt;
  constexpr auto kLeeway = hours(2);     // started this close to quiet hours: not today
  constexpr auto kBuffer = minutes(15);  // so that a stop exactly at midnight is not skipped
  const auto* tz = date::locate_zone(quiet_hours.zone());
  auto day = date::floor<date::days>(tz->to_local(now + kLeeway));
  if (weeks > 1) day = next_applicable_monday(day, weeks);
  auto today = quiet_hours.next(midnight(tz, day) - kBuffer);
  if (!today || *today < now + kLeeway) day += date::days(1);
  auto required = [&](local_days d) {
    const char* name = kWeekdayNames[date::weekday(d).c_encoding()];
    return std::find(days.begin(), days.end(), name) != days.end();
  };
  for (int i = 0; i < 7 && !required(day); ++i) day += date::days(1);
  if (!required(day)) return std::nullopt;
  auto from = midnight(tz, day);
  from = from < now + hours(1) ? now + hours(1) : from - kBuffer;
  return quiet_hours.next(from);
}

}  // namespace berth::coderd
