#pragma once

#include <vector>

#include "api/deps.hpp"
#include "coderd/agents.hpp"
#include "common/json.hpp"
#include "store/rows.hpp"

namespace berth::api {

// codersdk.WorkspaceAgentLog.
json::value agent_log_json(const store::WorkspaceAgentLogRow& log);
// The manifest an agent gets on connect (see sdk/agent_protocol.hpp).
json::value agent_manifest_json(Deps& deps, const coderd::AgentIdentity& agent);
// agentsdk.Log[] as an agent sends them; throws Error{invalid} with Coder's messages.
std::vector<coderd::AgentLogInput> read_agent_logs(const json::array& logs);
// codersdk.WorkspaceAgentMetadata[] of one agent: each item its build described (the agent's
// `metadata` blocks) with the latest result the agent reported, sorted by key as Coder does.
json::array agent_metadata_json(Deps& deps, const store::WorkspaceAgentRow& agent, TimePoint now);
// codersdk.AgentScriptTiming[] of one build's agents.
json::array agent_script_timings_json(Deps& deps,
                                      const std::vector<store::WorkspaceAgentRow>& agents);

}  // namespace berth::api
