// Autostart schedules (`CRON_TZ=<zone> m h * * dow`) and quiet-hours schedules as users send
// them, then what the scheduler computes from a parsed one.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "coderd/schedule.hpp"
#include "common/error.hpp"

using namespace berth;

namespace {

void use(const coderd::WeeklySchedule& s, std::size_t size) {
  using namespace std::chrono;
  // 2024-03-10 06:30 UTC (the US spring-forward morning) and 2024-11-03 05:30 UTC (fall back).
  for (auto seconds : {1710052200LL, 1730611800LL, 0LL}) {
    TimePoint after{duration_cast<microseconds>(std::chrono::seconds(seconds))};
    s.next(after);
    s.weekday_at(after);
    coderd::autostop_requirement_deadline(s, {"monday", "saturday"}, std::int64_t(1 + size % 16),
                                          after);
  }
  s.time_of_day();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    use(coderd::WeeklySchedule::parse(text), size);
  } catch (const Error&) {
  }
  try {
    use(coderd::WeeklySchedule::parse_daily(text), size);
  } catch (const Error&) {
  }
  return 0;
}
