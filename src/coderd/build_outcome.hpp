#pragma once

#include <string>
#include <vector>

#include "common/clock.hpp"
#include "store/store.hpp"

namespace berth::coderd {

// What a successful workspace build produced, ready to store.
struct BuildOutcome {
  std::string state;  // the provisioner's new state for this workspace
  std::vector<store::WorkspaceResourceRow> resources;
  std::vector<store::WorkspaceAgentRow> agents;  // resource_id set, token hashed
  bool has_ai_task = false;
  std::string ai_task_app_id;
  std::int64_t daily_cost = 0;
};

// Records a finished build inside the completing transaction: resources, agents, state,
// deadline (from the TTL and the autostart schedule), and for a delete the workspace's end.
void apply_build_outcome(store::Store& tx, const store::WorkspaceBuildRow& build,
                         const BuildOutcome& outcome, TimePoint now);

}  // namespace berth::coderd
