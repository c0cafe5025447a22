#include "coderd/organizations.hpp"

#include "common/error.hpp"

namespace berth::coderd {

namespace {

constexpr const char* kDeploymentIdKey = "deployment_id";

}  // namespace

void initialize_deployment(store::Store& store, const Clock& clock) {
  store.in_tx([&](store::Store& tx) {
    if (!tx.get_default_organization()) {
      auto now = clock.now();
      tx.insert_organization(store::OrganizationRow{Uuid::random_v4(), "coder", "Coder",
                                                    "Builtin default organization.", "", true, now,
                                                    now});
    }
    if (!tx.get_site_config(kDeploymentIdKey))
      tx.upsert_site_config(kDeploymentIdKey, Uuid::random_v4().to_string());
  });
}

std::string deployment_id(store::Store& store) {
  auto id = store.get_site_config(kDeploymentIdKey);
  if (!id) throw Error{ErrorCode::internal, "The deployment has not been initialized."};
  return *id;
}

}  // namespace berth::coderd
