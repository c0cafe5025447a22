#include <algorithm>

#include "api/auth.hpp"
#include "api/convert.hpp"
#include "api/handlers.hpp"
#include "api/jobs_json.hpp"
#include "api/query.hpp"
#include "coderd/names.hpp"
#include "common/error.hpp"
#include "http/error_response.hpp"

namespace berth::api {

namespace {

std::string tag_failure(const char* tag, const std::string& value) {
  return "Validation failed for tag \"" + std::string(tag) + "\" with value: \"" + value + "\"";
}

// The `email` and `username` fields as Coder's validator tags check them.
void check_email(json::ObjectReader& body, const std::string& email) {
  if (!email.empty() && !coderd::email_valid(email))
    body.invalid("email", tag_failure("email", email));
}

void check_username(json::ObjectReader& body, const std::string& username) {
  if (!username.empty() && coderd::name_problem(username))
    body.invalid("username", tag_failure("username", username));
}

void check_real_name(json::ObjectReader& body, const std::string& name) {
  if (coderd::real_name_problem(name)) body.invalid("name", tag_failure("user_real_name", name));
}

std::vector<Uuid> organization_ids_of(Deps& deps, const Uuid& user_id) {
  std::vector<Uuid> ids;
  for (const auto& m : deps.store.list_organization_members_by_user_id(user_id))
    ids.push_back(m.organization_id);
  return ids;
}

}  // namespace

json::value user_json(Deps& deps, const store::UserRow& user) {
  return sdk::to_json(to_sdk(user, organization_ids_of(deps, user.id)));
}

namespace {

std::string session_cookie(const std::string& token, int max_age) {
  return "coder_session_token=" + token + "; Path=/; Max-Age=" + std::to_string(max_age) +
         "; HttpOnly; SameSite=Lax";
}

}  // namespace

Response get_first_user(Deps& deps, Request&) {
  if (deps.store.count_users() == 0)
    throw Error{ErrorCode::not_found, "The initial user has not been created!"};
  return http::json_response(
      200, json::object{{"message", "The initial user has already been created!"}});
}

Response create_first_user(Deps& deps, Request& request) {
  json::ObjectReader body(json::parse_body(request.body));
  coderd::FirstUserParams params;
  params.email = body.required_string("email");
  params.username = body.required_string("username");
  params.password = body.required_string("password");
  params.name = body.string("name").value_or("");
  check_email(body, params.email);
  check_username(body, params.username);
  check_real_name(body, params.name);
  body.finish();
  auto user = deps.users.create_first_user(params);
  auto org = deps.store.get_default_organization();
  return http::json_response(201, json::object{{"user_id", user.id.to_string()},
                                               {"organization_id", org->id.to_string()}});
}

Response login_with_password(Deps& deps, Request& request) {
  json::ObjectReader body(json::parse_body(request.body));
  auto email = body.required_string("email");
  auto password = body.required_string("password");
  check_email(body, email);
  body.finish();
  auto key = deps.users.login(email, password, client_ip(request));
  auto response = http::json_response(201, json::object{{"session_token", key.token}});
  response.set_header("Set-Cookie", session_cookie(key.token, int(key.row.lifetime_seconds)));
  return response;
}

Response logout(Deps& deps, Request&, const Authenticated& auth) {
  deps.api_keys.revoke(auth.key.id);
  auto response = http::json_response(200, json::object{{"message", "Logged out!"}});
  response.set_header("Set-Cookie", session_cookie("", 0));
  return response;
}

Response get_user(Deps& deps, Request& request, const Authenticated& auth) {
  auto user = resolve_user_param(deps, request, auth);
  // The caller's own organizations came with the session: no store read for /users/me.
  if (user.id == auth.user.id)
    return http::json_response(200, sdk::to_json(to_sdk(user, auth.organization_ids)));
  return http::json_response(200, user_json(deps, user));
}

Response list_users(Deps& deps, Request& request, const Authenticated& auth) {
  auto q = request.query_values("q");
  auto params = parse_user_search(q.empty() ? "" : q.front());
  auto page = parse_pagination(request);
  params.after_id = page.after_id;
  params.limit = page.limit;
  params.offset = page.offset;
  // Users the caller may not read are left out, as Coder's authorized query does. Only the
  // few roles that read every user see more than themselves, so filter in memory.
  bool reads_all =
      coderd::authorize(auth.subject, coderd::Action::read,
                        coderd::Object{coderd::Resource::user, std::nullopt, std::nullopt});
  json::array users;
  std::int64_t count = 0;
  if (reads_all) {
    auto result = deps.store.list_users(params);
    for (const auto& u : result.users) users.push_back(user_json(deps, u));
    count = result.count;
  } else {
    params.limit = 0;
    params.offset = 0;
    params.after_id.reset();
    for (const auto& u : deps.store.list_users(params).users) {
      if (u.id != auth.user.id) continue;
      ++count;
      if (page.offset == 0 && !page.after_id) users.push_back(user_json(deps, u));
    }
  }
  return http::json_response(200, json::object{{"users", std::move(users)}, {"count", count}});
}

Response create_user(Deps& deps, Request& request, const Authenticated& auth) {
  json::ObjectReader body(json::parse_body(request.body));
  coderd::CreateUserParams params;
  params.email = body.required_string("email");
  params.username = body.required_string("username");
  params.name = body.string("name").value_or("");
  params.password = body.string("password").value_or("");
  params.login_type = body.string("login_type").value_or("");
  if (params.login_type.empty()) params.login_type = "password";
  params.status = body.string("user_status").value_or("");
  if (params.status.empty()) params.status = "dormant";
  if (params.status != "active" && params.status != "dormant" && params.status != "suspended")
    body.invalid("user_status", tag_failure("oneof", params.status));
  if (auto disable_login = body.boolean("disable_login"); disable_login && *disable_login)
    params.login_type = "none";
  auto ids = body.string_array("organization_ids").value_or(std::vector<std::string>{});
  // Older clients send a single `organization_id`.
  if (auto single = body.string("organization_id"); single && !single->empty())
    ids.push_back(*single);
  for (const auto& text : ids) {
    auto id = Uuid::parse(text);
    if (!id)
      throw Error{ErrorCode::invalid, "Request body must be valid JSON.",
                  "field \"organization_ids\" must hold UUIDs"};
    params.organization_ids.push_back(*id);
  }
  check_email(body, params.email);
  check_username(body, params.username);
  check_real_name(body, params.name);
  body.finish();
  auto user = deps.users.create_user(auth.subject, params);
  return http::json_response(201, user_json(deps, user));
}

Response update_user_roles(Deps& deps, Request& request, const Authenticated& auth) {
  auto user = resolve_user_param(deps, request, auth);
  if (user.id == auth.user.id) throw Error{ErrorCode::invalid, "You cannot change your own roles."};
  json::ObjectReader body(json::parse_body(request.body));
  auto roles = body.string_array("roles").value_or(std::vector<std::string>{});
  body.finish();
  auto updated = deps.users.update_roles(auth.subject, user, std::move(roles));
  return http::json_response(200, user_json(deps, updated));
}

Response suspend_user(Deps& deps, Request& request, const Authenticated& auth) {
  auto user = resolve_user_param(deps, request, auth);
  return http::json_response(
      200, user_json(deps, deps.users.update_status(auth.subject, user, "suspended")));
}

Response delete_user(Deps& deps, Request& request, const Authenticated& auth) {
  auto user = resolve_user_param(deps, request, auth);
  deps.users.delete_user(auth.subject, user);
  return http::json_response(200, json::object{{"message", "User has been deleted!"}});
}

Response activate_user(Deps& deps, Request& request, const Authenticated& auth) {
  auto user = resolve_user_param(deps, request, auth);
  return http::json_response(
      200, user_json(deps, deps.users.update_status(auth.subject, user, "active")));
}

Response get_user_roles(Deps& deps, Request& request, const Authenticated& auth) {
  auto user = resolve_user_param(deps, request, auth);
  json::object org_roles;
  for (const auto& m : deps.store.list_organization_members_by_user_id(user.id)) {
    auto roles = m.roles;
    roles.insert(roles.begin(), "organization-member");
    org_roles[m.organization_id.to_string()] = json::strings(roles);
  }
  auto site = user.rbac_roles;
  site.insert(site.begin(), "member");
  return http::json_response(200, json::object{{"roles", json::strings(site)},
                                               {"organization_roles", std::move(org_roles)}});
}

}  // namespace berth::api
