#pragma once

#include <memory>
#include <string>

#include "api/agent_binary.hpp"
#include "api/rate_limits.hpp"

#include "coderd/agents.hpp"
#include "coderd/api_keys.hpp"
#include "coderd/daemon_polls.hpp"
#include "coderd/provisioner_daemons.hpp"
#include "coderd/provisioner_jobs.hpp"
#include "coderd/replicas.hpp"
#include "coderd/tasks.hpp"
#include "coderd/templates.hpp"
#include "coderd/users.hpp"
#include "coderd/workspaces.hpp"
#include "common/clock.hpp"
#include "http/tcp_forward.hpp"
#include "store/pubsub.hpp"
#include "store/store.hpp"

namespace berth::api {

// What this build reports about itself at /buildinfo.
struct BuildInfo {
  std::string version;
  std::string access_url;
  std::string deployment_id;
};

// The services handlers call; owned by the composition root.
struct Deps {
  store::Store& store;
  const Clock& clock;
  coderd::ApiKeys& api_keys;
  coderd::Users& users;
  store::Pubsub& pubsub;
  coderd::JobQueue& jobs;
  coderd::Templates& templates;
  coderd::Workspaces& workspaces;
  BuildInfo build;
  coderd::Tasks& tasks;
  coderd::AppHttpClient& app_http;
  coderd::Agents& agents;
  coderd::AgentRegistry& agent_registry;
  std::shared_ptr<const AgentBinary> agent_binary;      // null when the server has none
  std::shared_ptr<RateLimits> rate_limits;              // null: no limits
  coderd::Replicas* replicas = nullptr;                 // null: GET /replicas lists none
  coderd::ProvisionerKeys* provisioner_keys = nullptr;  // null: no external daemons
  coderd::DaemonPolls* daemon_polls = nullptr;          // null: no external daemons
  http::OutboundIo* outbound = nullptr;  // null: nothing is relayed to other replicas
};

}  // namespace berth::api
