#pragma once

#include "api/deps.hpp"
#include "coderd/workspace_views.hpp"
#include "common/json.hpp"
#include "sdk/workspaces.hpp"
#include "store/rows.hpp"

namespace berth::api {

// An agent's connection status now: connecting, connected, disconnected or timeout.
sdk::WorkspaceAgentStatus agent_status(const store::WorkspaceAgentRow& agent, TimePoint now);

// codersdk.WorkspaceAgent: the build's static definition plus the live columns, app health
// and log sources the agent reported. The row forms load their view first.
sdk::WorkspaceAgent workspace_agent(const coderd::AgentView& agent, TimePoint now);
json::value agent_json(const coderd::AgentView& agent, TimePoint now);
json::value agent_json(Deps& deps, const store::WorkspaceAgentRow& agent, TimePoint now);
// codersdk.WorkspaceResource with its agents.
sdk::WorkspaceResource workspace_resource(const coderd::ResourceView& resource, TimePoint now);
json::value resource_json(const coderd::ResourceView& resource, TimePoint now);
json::value resource_json(Deps& deps, const store::WorkspaceResourceRow& resource);
// codersdk.WorkspaceBuild, fully expanded; `owner` is the workspace's.
sdk::WorkspaceBuild workspace_build(Deps& deps, const coderd::BuildView& build,
                                    const store::WorkspaceRow& workspace,
                                    const std::optional<store::UserRow>& owner);
json::value build_json(Deps& deps, const coderd::BuildView& build,
                       const store::WorkspaceRow& workspace,
                       const std::optional<store::UserRow>& owner);
json::value build_json(Deps& deps, const store::WorkspaceBuildRow& build,
                       const store::WorkspaceRow& workspace);
// codersdk.Workspace as `viewer` sees it (favorite is the owner's own flag).
sdk::Workspace workspace(Deps& deps, const coderd::WorkspaceView& workspace, const Uuid& viewer);
json::value workspace_json(Deps& deps, const coderd::WorkspaceView& workspace, const Uuid& viewer);
json::value workspace_json(Deps& deps, const store::WorkspaceRow& workspace, const Uuid& viewer);

}  // namespace berth::api
