#include "coderd/organizations.hpp"

#include "common/crypto.hpp"
#include "common/error.hpp"

namespace berth::coderd {

namespace {

constexpr const char* kDeploymentIdKey = "deployment_id";
constexpr const char* kRelaySecretKey = "replica_relay_secret";

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
    if (!tx.get_site_config(kRelaySecretKey))
      tx.upsert_site_config(kRelaySecretKey, random_alphanumeric(40));
  });
}

std::string deployment_id(store::Store& store) {
  auto id = store.get_site_config(kDeploymentIdKey);
  if (!id) throw Error{ErrorCode::internal, "The deployment has not been initialized."};
  return *id;
}

std::string relay_secret(store::Store& store) {
  auto secret = store.get_site_config(kRelaySecretKey);
  if (!secret) throw Error{ErrorCode::internal, "The deployment has not been initialized."};
  return *secret;
}

}  // namespace berth::coderd
