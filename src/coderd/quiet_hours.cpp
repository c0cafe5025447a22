#include "coderd/quiet_hours.hpp"

#include "coderd/users.hpp"
#include "common/error.hpp"

namespace berth::coderd {

namespace {

QuietHours parsed(const std::string& raw, bool user_set) {
  return QuietHours{raw, WeeklySchedule::parse_daily(raw), user_set};
}

QuietHours default_quiet_hours(store::Store& store) {
  auto raw = store.get_site_config(kDefaultQuietHoursKey).value_or(kDefaultQuietHoursSchedule);
  try {
    return parsed(raw, false);
  } catch (const Error&) {
    return parsed(kDefaultQuietHoursSchedule, false);
  }
}

}  // namespace

void set_default_quiet_hours(store::Store& store, const std::string& schedule) {
  try {
    WeeklySchedule::parse_daily(schedule);
  } catch (const Error& e) {
    throw Error{ErrorCode::invalid, "Invalid --default-quiet-hours-schedule \"" + schedule + "\".",
                e.message()};
  }
  store.upsert_site_config(kDefaultQuietHoursKey, schedule);
}

QuietHours quiet_hours_of(store::Store& store, const Uuid& user_id) {
  auto own = store.get_user_quiet_hours_schedule(user_id);
  if (!own.empty()) try {
      return parsed(own, true);
    } catch (const Error&) {
    }
  return default_quiet_hours(store);
}

QuietHours set_quiet_hours(store::Store& store, const Subject& actor, const store::UserRow& user,
                           const std::string& schedule, TimePoint now) {
  require_visible(actor, Action::update_personal, user_object(user));
  if (!schedule.empty()) try {
      WeeklySchedule::parse_daily(schedule);
    } catch (const Error& e) {
      throw Error{
          ErrorCode::invalid, "Invalid quiet hours schedule.", {}, {{"schedule", e.message()}}};
    }
  store.update_user_quiet_hours_schedule(user.id, schedule, now);
  return quiet_hours_of(store, user.id);
}

}  // namespace berth::coderd
