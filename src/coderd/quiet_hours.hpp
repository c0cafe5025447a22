#pragma once

#include <string>

#include "coderd/rbac.hpp"
#include "coderd/schedule.hpp"
#include "common/clock.hpp"
#include "store/store.hpp"

namespace berth::coderd {

// Site config key of the deployment's default quiet hours (`--default-quiet-hours-schedule`).
inline constexpr const char* kDefaultQuietHoursKey = "default_quiet_hours_schedule";

// A user's quiet hours as they apply: their own schedule, or the deployment default.
struct QuietHours {
  std::string raw;
  WeeklySchedule schedule;
  bool user_set = false;
};

// Records the deployment default; throws Error{invalid} naming the flag for a bad schedule.
void set_default_quiet_hours(store::Store& store, const std::string& schedule);

// The quiet hours that bound `user_id`'s workspaces (a stored schedule that no longer parses
// falls back to the default, and a bad default to Coder's midnight UTC).
QuietHours quiet_hours_of(store::Store& store, const Uuid& user_id);

// Sets (or, with an empty schedule, clears back to the default) a user's quiet hours. Needs
// update_personal on the user; throws Error{invalid} with the field named for a bad schedule.
QuietHours set_quiet_hours(store::Store& store, const Subject& actor, const store::UserRow& user,
                           const std::string& schedule, TimePoint now);

}  // namespace berth::coderd
