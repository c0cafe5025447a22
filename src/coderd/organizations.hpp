#pragma once

#include <string>

#include "common/clock.hpp"
#include "store/store.hpp"

namespace berth::coderd {

// Creates what a new deployment needs before its first request: the default organization
// (Coder's `coder` / "Coder") and the deployment id. Idempotent.
void initialize_deployment(store::Store& store, const Clock& clock);

// The id this deployment was given on its first start.
std::string deployment_id(store::Store& store);

// The secret replicas of this deployment show each other when one relays a request to
// another (read from the database each time: every replica sees the same one).
std::string relay_secret(store::Store& store);

}  // namespace berth::coderd
