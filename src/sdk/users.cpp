#include "sdk/users.hpp"

namespace berth::sdk {

namespace {

json::array roles_json(const std::vector<SlimRole>& roles) {
  json::array out;
  for (const auto& r : roles) out.push_back(to_json(r));
  return out;
}

std::string str(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_string()) return {};
  return std::string(it->value().get_string());
}

Uuid uuid(const json::object& o, std::string_view key) {
  return Uuid::parse(str(o, key)).value_or(Uuid{});
}

TimePoint time(const json::object& o, std::string_view key) {
  return parse_rfc3339(str(o, key)).value_or(TimePoint{});
}

}  // namespace

json::value to_json(const SlimRole& role) {
  return json::object{{"name", role.name},
                      {"display_name", role.display_name},
                      {"organization_id", role.organization_id}};
}

json::value to_json(const User& u) {
  json::array org_ids;
  for (const auto& id : u.organization_ids) org_ids.emplace_back(id.to_string());
  return json::object{{"id", u.id.to_string()},
                      {"username", u.username},
                      {"avatar_url", u.avatar_url},
                      {"name", u.name},
                      {"email", u.email},
                      {"created_at", format_rfc3339(u.created_at)},
                      {"updated_at", format_rfc3339(u.updated_at)},
                      {"last_seen_at", format_rfc3339(u.last_seen_at)},
                      {"status", u.status},
                      {"login_type", u.login_type},
                      {"theme_preference", u.theme_preference},
                      // An enterprise licence seat; an open-source deployment has none.
                      {"has_ai_seat", false},
                      {"organization_ids", std::move(org_ids)},
                      {"roles", roles_json(u.roles)}};
}

json::value to_json(const Organization& o) {
  return json::object{{"id", o.id.to_string()},
                      {"name", o.name},
                      {"display_name", o.display_name},
                      {"description", o.description},
                      {"icon", o.icon},
                      {"created_at", format_rfc3339(o.created_at)},
                      {"updated_at", format_rfc3339(o.updated_at)},
                      {"is_default", o.is_default},
                      // New members get no organization role beyond membership.
                      {"default_org_member_roles", json::array{}}};
}

json::value to_json(const OrganizationMember& m) {
  return json::object{{"organization_id", m.organization_id.to_string()},
                      {"user_id", m.user_id.to_string()},
                      {"username", m.username},
                      {"name", m.name},
                      {"email", m.email},
                      {"avatar_url", m.avatar_url},
                      {"roles", roles_json(m.roles)},
                      {"global_roles", roles_json(m.global_roles)},
                      {"created_at", format_rfc3339(m.created_at)},
                      {"updated_at", format_rfc3339(m.updated_at)},
                      {"status", m.status},
                      {"login_type", m.login_type}};
}

json::value to_json(const ApiKey& k) {
  json::object out{{"id", k.id},
                   {"user_id", k.user_id.to_string()},
                   {"last_used", format_rfc3339(k.last_used)},
                   {"expires_at", format_rfc3339(k.expires_at)},
                   {"created_at", format_rfc3339(k.created_at)},
                   {"updated_at", format_rfc3339(k.updated_at)},
                   {"login_type", k.login_type},
                   {"scope", k.scope},
                   {"scopes", json::array{json::value(k.scope)}},
                   {"token_name", k.token_name},
                   // Berth does not narrow tokens to resources: every key reaches everything.
                   {"allow_list", json::array{json::object{{"type", "*"}, {"id", "*"}}}},
                   {"lifetime_seconds", k.lifetime_seconds}};
  if (k.username) out["username"] = *k.username;
  return out;
}

User user_from_json(const json::value& v) {
  const auto& o = v.as_object();
  User u;
  u.id = uuid(o, "id");
  u.username = str(o, "username");
  u.email = str(o, "email");
  u.name = str(o, "name");
  u.avatar_url = str(o, "avatar_url");
  u.created_at = time(o, "created_at");
  u.updated_at = time(o, "updated_at");
  u.last_seen_at = time(o, "last_seen_at");
  u.status = str(o, "status");
  u.login_type = str(o, "login_type");
  u.theme_preference = str(o, "theme_preference");
  if (auto it = o.find("organization_ids"); it != o.end() && it->value().is_array())
    for (const auto& id : it->value().get_array())
      if (id.is_string())
        u.organization_ids.push_back(Uuid::parse(id.get_string()).value_or(Uuid{}));
  if (auto it = o.find("roles"); it != o.end() && it->value().is_array())
    for (const auto& r : it->value().get_array())
      if (r.is_object())
        u.roles.push_back({str(r.get_object(), "name"), str(r.get_object(), "display_name"),
                           str(r.get_object(), "organization_id")});
  return u;
}

Organization organization_from_json(const json::value& v) {
  const auto& o = v.as_object();
  Organization org;
  org.id = uuid(o, "id");
  org.name = str(o, "name");
  org.display_name = str(o, "display_name");
  org.description = str(o, "description");
  org.icon = str(o, "icon");
  org.created_at = time(o, "created_at");
  org.updated_at = time(o, "updated_at");
  if (auto it = o.find("is_default"); it != o.end() && it->value().is_bool())
    org.is_default = it->value().get_bool();
  return org;
}

}  // namespace berth::sdk
