#include "cli/schedule_spec.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <vector>

#include "common/error.hpp"

namespace berth::cli {

namespace {

std::vector<std::string> words(std::string_view text) {
  std::istringstream in{std::string(text)};
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

[[noreturn]] void bad_schedule(std::string_view text, const std::string& why) {
  throw Error{ErrorCode::invalid, "Invalid schedule \"" + std::string(text) + "\".",
              why + " Use e.g. \"Mon-Fri 09:00 Europe/Berlin\" or a CRON_TZ string."};
}

// "09:00", "9:30", "9:30AM", "9am" → minutes after midnight; nullopt if not a time.
std::optional<int> parse_clock(const std::string& word) {
  auto w = lower(word);
  int offset = 0;
  bool twelve_hour = false;
  if (w.size() > 2 && (w.ends_with("am") || w.ends_with("pm"))) {
    twelve_hour = true;
    offset = w.ends_with("pm") ? 12 : 0;
    w.resize(w.size() - 2);
  }
  auto colon = w.find(':');
  if (colon == std::string::npos && !twelve_hour) return std::nullopt;
  auto hh = w.substr(0, colon);
  auto mm = colon == std::string::npos ? std::string("0") : w.substr(colon + 1);
  auto digits = [](const std::string& s) {
    return !s.empty() && s.size() <= 2 && std::all_of(s.begin(), s.end(), ::isdigit);
  };
  if (!digits(hh) || !digits(mm)) return std::nullopt;
  int h = std::atoi(hh.c_str()), m = std::atoi(mm.c_str());
  if (twelve_hour) {
    if (h < 1 || h > 12) return std::nullopt;
    h = h % 12 + offset;
  }
  if (h > 23 || m > 59) return std::nullopt;
  return h * 60 + m;
}

bool is_day_name(std::string_view w) {
  static const char* kDays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
  return std::any_of(std::begin(kDays), std::end(kDays),
                     [&](const char* d) { return lower(std::string(w)) == d; });
}

// "Mon-Fri", "Mon,Wed,Fri", "*": what the cron day-of-week field takes.
bool is_days(const std::string& w) {
  if (w == "*") return true;
  std::string part;
  for (char c : w + ",") {
    if (c == ',' || c == '-') {
      if (!is_day_name(part)) return false;
      part.clear();
    } else {
      part += c;
    }
  }
  return true;
}

bool is_cron(const std::vector<std::string>& w) {
  if (!w.empty() && w[0].starts_with("CRON_TZ=")) return true;
  return w.size() == 5 && std::all_of(w.begin(), w.end(), [](const std::string& s) {
           return s.find_first_not_of("0123456789*,-/") == std::string::npos || is_days(s);
         });
}

std::string default_zone() {
  const char* tz = std::getenv("TZ");
  return tz && *tz && *tz != ':' ? tz : "UTC";
}

}  // namespace

std::chrono::milliseconds parse_duration(std::string_view text) {
  using namespace std::chrono;
  milliseconds total{0};
  std::size_t i = 0;
  auto fail = [&] {
    throw Error{ErrorCode::invalid, "Invalid duration \"" + std::string(text) + "\".",
                "Use e.g. 8h, 1h30m, 45m or 2d."};
  };
  if (text.empty()) fail();
  while (i < text.size()) {
    std::size_t start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    if (start == i || i == text.size()) fail();
    long long n = std::atoll(std::string(text.substr(start, i - start)).c_str());
    switch (text[i++]) {
      case 'd':
        total += hours(24 * n);
        break;
      case 'h':
        total += hours(n);
        break;
      case 'm':
        total += minutes(n);
        break;
      case 's':
        total += seconds(n);
        break;
      default:
        fail();
    }
  }
  if (total <= milliseconds::zero()) fail();
  return total;
}

std::string parse_start_at(std::string_view text) {
  auto w = words(text);
  if (w.size() == 1 && lower(w[0]) == "manual") return "";
  if (is_cron(w)) {
    std::string joined;
    for (const auto& part : w) joined += (joined.empty() ? "" : " ") + part;
    return joined;
  }
  std::optional<int> clock;
  std::string days = "*", zone;
  for (const auto& word : w) {
    if (auto c = parse_clock(word)) {
      if (clock) bad_schedule(text, "It names two times.");
      clock = c;
    } else if (is_days(word)) {
      days = word;
    } else if (word.find('/') != std::string::npos || word == "UTC") {
      zone = word;
    } else {
      bad_schedule(text, "\"" + word + "\" is not a time, days or a time zone.");
    }
  }
  if (!clock) bad_schedule(text, "It has no start time.");
  if (zone.empty()) zone = default_zone();
  return "CRON_TZ=" + zone + " " + std::to_string(*clock % 60) + " " + std::to_string(*clock / 60) +
         " * * " + days;
}

std::string describe_schedule(const std::string& cron) {
  if (cron.empty()) return "-";
  auto w = words(cron);
  if (w.size() != 6 || !w[0].starts_with("CRON_TZ=") || w[3] != "*" || w[4] != "*") return cron;
  auto digits = [](const std::string& s) {
    return !s.empty() && s.size() <= 2 && std::all_of(s.begin(), s.end(), ::isdigit);
  };
  if (!digits(w[1]) || !digits(w[2])) return cron;
  auto two = [](const std::string& s) { return s.size() == 1 ? "0" + s : s; };
  auto days = w[5] == "*" ? std::string("daily") : w[5];
  return two(w[2]) + ":" + two(w[1]) + " " + days + " (" + w[0].substr(8) + ")";
}

}  // namespace berth::cli
