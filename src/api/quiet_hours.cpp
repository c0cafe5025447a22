// GET/PUT /users/{user}/quiet-hours: when the user's workspaces may be stopped for the
// template's autostop requirement.
#include "coderd/quiet_hours.hpp"
#include "api/auth.hpp"
#include "api/handlers.hpp"
#include "coderd/users.hpp"
#include "common/error.hpp"
#include "http/error_response.hpp"

namespace berth::api {

namespace {

// codersdk.UserQuietHoursScheduleResponse (swagger says an array; Coder writes one object).
json::value quiet_hours_json(const coderd::QuietHours& q, TimePoint now) {
  auto next = q.schedule.next(now);
  return json::object{{"raw_schedule", q.raw},         {"user_set", q.user_set},
                      {"user_can_set", true},          {"time", q.schedule.time_of_day()},
                      {"timezone", q.schedule.zone()}, {"next", json::time_or_null(next)}};
}

}  // namespace

Response get_user_quiet_hours(Deps& deps, Request& request, const Authenticated& auth) {
  auto user = resolve_user_param(deps, request, auth);
  coderd::require_visible(auth.subject, coderd::Action::read_personal, coderd::user_object(user));
  return http::json_response(
      200, quiet_hours_json(coderd::quiet_hours_of(deps.store, user.id), deps.clock.now()));
}

Response update_user_quiet_hours(Deps& deps, Request& request, const Authenticated& auth) {
  auto user = resolve_user_param(deps, request, auth);
  json::ObjectReader body(json::parse_body(request.body));
  auto schedule = body.required_string("schedule");
  body.finish();
  auto now = deps.clock.now();
  auto q = coderd::set_quiet_hours(deps.store, auth.subject, user, schedule, now);
  deps.api_keys.user_changed(user.id);  // the user's updated_at changed
  return http::json_response(200, quiet_hours_json(q, now));
}

}  // namespace berth::api
