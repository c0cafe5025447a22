#include "api/auth.hpp"
#include "api/convert.hpp"
#include "api/handlers.hpp"
#include "coderd/users.hpp"
#include "common/error.hpp"
#include "http/error_response.hpp"

namespace berth::api {

namespace {

constexpr std::int64_t kNanosPerSecond = 1'000'000'000;

json::value key_with_owner(const store::ApiKeyRow& key, const store::UserRow& owner) {
  auto wire = to_sdk(key);
  wire.username = owner.username;
  return sdk::to_json(wire);
}

}  // namespace

Response create_session_key(Deps& deps, Request& request, const Authenticated& auth) {
  auto user = resolve_user_param(deps, request, auth);
  auto key = deps.users.create_session_key(auth.subject, user, client_ip(request));
  return http::json_response(201, json::object{{"key", key.token}});
}

Response create_token(Deps& deps, Request& request, const Authenticated& auth) {
  auto user = resolve_user_param(deps, request, auth);
  json::ObjectReader body(json::parse_body(request.body));
  // `lifetime` is a Go time.Duration: nanoseconds.
  auto lifetime_ns = body.integer("lifetime").value_or(0);
  auto name = body.string("token_name").value_or("");
  auto scope = body.string("scope").value_or("all");
  if (scope != "all" && scope != "application_connect" && !scope.empty())
    body.invalid("scope", "Validation failed for tag \"oneof\" with value: \"" + scope + "\"");
  body.finish();
  std::chrono::seconds lifetime(lifetime_ns / kNanosPerSecond);
  if (lifetime_ns > 0 && lifetime.count() == 0) lifetime = std::chrono::seconds(1);
  if (lifetime_ns < 0) lifetime = std::chrono::seconds(-1);
  auto key = deps.users.create_token(auth.subject, user, lifetime, name, client_ip(request));
  return http::json_response(201, json::object{{"key", key.token}});
}

Response list_tokens(Deps& deps, Request& request, const Authenticated& auth) {
  auto user = resolve_user_param(deps, request, auth);
  auto include_all = request.query_values("include_all");
  bool all = !include_all.empty() && (include_all[0] == "true" || include_all[0] == "1");
  json::array out;
  auto add = [&](const store::ApiKeyRow& key) {
    auto owner =
        key.user_id == user.id ? std::optional(user) : deps.store.get_user_by_id(key.user_id);
    if (!owner) return;
    if (!coderd::authorize(auth.subject, coderd::Action::read,
                           coderd::Object{coderd::Resource::api_key, owner->id, std::nullopt}))
      return;
    out.push_back(key_with_owner(key, *owner));
  };
  if (all) {
    for (const auto& key : deps.store.list_api_keys_by_login_type("token")) add(key);
  } else {
    for (const auto& key : deps.store.list_api_keys_by_user_id_and_login_type(user.id, "token"))
      add(key);
  }
  return http::json_response(200, out);
}

Response get_token_by_name(Deps& deps, Request& request, const Authenticated& auth) {
  auto user = resolve_user_param(deps, request, auth);
  auto key = deps.store.get_api_key_by_name(user.id, request.param("keyname"));
  if (!key) throw Error{ErrorCode::not_found, kResourceNotFoundMessage};
  coderd::require_visible(auth.subject, coderd::Action::read,
                          coderd::Object{coderd::Resource::api_key, user.id, std::nullopt});
  return http::json_response(200, sdk::to_json(to_sdk(*key)));
}

Response get_token_config(Deps& deps, Request& request, const Authenticated& auth) {
  resolve_user_param(deps, request, auth);
  auto max = deps.api_keys.policy().max_token_lifetime.count() * kNanosPerSecond;
  return http::json_response(200, json::object{{"max_token_lifetime", max}});
}

Response get_api_key(Deps& deps, Request& request, const Authenticated& auth) {
  auto user = resolve_user_param(deps, request, auth);
  auto key = deps.store.get_api_key_by_id(request.param("keyid"));
  if (!key || key->user_id != user.id) throw Error{ErrorCode::not_found, kResourceNotFoundMessage};
  coderd::require_visible(auth.subject, coderd::Action::read,
                          coderd::Object{coderd::Resource::api_key, user.id, std::nullopt});
  return http::json_response(200, sdk::to_json(to_sdk(*key)));
}

Response delete_api_key(Deps& deps, Request& request, const Authenticated& auth) {
  auto user = resolve_user_param(deps, request, auth);
  deps.users.delete_api_key(auth.subject, user, request.param("keyid"));
  return http::no_content();
}

}  // namespace berth::api
