#include "api/convert.hpp"

#include "coderd/rbac.hpp"

namespace berth::api {

std::vector<sdk::SlimRole> slim_roles(const std::vector<std::string>& names,
                                      const std::string& organization_id) {
  std::vector<sdk::SlimRole> out;
  for (const auto& name : names) {
    auto info = coderd::find_role(name);
    out.push_back({name, info ? std::string(info->display_name) : "", organization_id});
  }
  return out;
}

sdk::User to_sdk(const store::UserRow& u, std::vector<Uuid> organization_ids) {
  return sdk::User{u.id,
                   u.username,
                   u.email,
                   u.name,
                   u.avatar_url,
                   u.created_at,
                   u.updated_at,
                   u.last_seen_at,
                   u.status,
                   u.login_type,
                   "",
                   std::move(organization_ids),
                   slim_roles(u.rbac_roles)};
}

sdk::Organization to_sdk(const store::OrganizationRow& o) {
  return sdk::Organization{o.id,   o.name,       o.display_name, o.description,
                           o.icon, o.is_default, o.created_at,   o.updated_at};
}

sdk::ApiKey to_sdk(const store::ApiKeyRow& k) {
  return sdk::ApiKey{k.id,         k.user_id,    std::nullopt,      k.last_used,
                     k.expires_at, k.created_at, k.updated_at,      k.login_type,
                     k.scope,      k.token_name, k.lifetime_seconds};
}

}  // namespace berth::api
