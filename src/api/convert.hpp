#pragma once

#include <vector>

#include "sdk/users.hpp"
#include "store/rows.hpp"

namespace berth::api {

// Row-to-wire conversions shared by the handlers.
std::vector<sdk::SlimRole> slim_roles(const std::vector<std::string>& names,
                                      const std::string& organization_id = {});
sdk::User to_sdk(const store::UserRow& user, std::vector<Uuid> organization_ids);
sdk::Organization to_sdk(const store::OrganizationRow& org);
sdk::ApiKey to_sdk(const store::ApiKeyRow& key);

}  // namespace berth::api
