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

}  // namespace berth::coderd
