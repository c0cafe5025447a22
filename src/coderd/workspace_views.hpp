#pragma once

// Workspaces, builds, resources and agents with everything the API shows of them, loaded for
// a whole page at once: one query per table, in one read transaction, instead of a dozen
// reads per workspace.

#include <optional>
#include <vector>

#include "store/store.hpp"

namespace berth::coderd {

// An agent with what it reported: its latest stats, its apps' health and its log sources.
struct AgentView {
  store::WorkspaceAgentRow agent;
  std::optional<store::WorkspaceAgentStatsRow> stats;
  std::vector<store::WorkspaceAppHealthRow> app_health;
  std::vector<store::WorkspaceAgentLogSourceRow> log_sources;
};

// A resource with its live (not deleted) agents, in their order.
struct ResourceView {
  store::WorkspaceResourceRow resource;
  std::vector<AgentView> agents;
};

// A build with its job, version (and that version's template), initiator and resources.
struct BuildView {
  store::WorkspaceBuildRow build;
  std::optional<store::ProvisionerJobRow> job;
  std::optional<store::TemplateVersionRow> version;
  std::optional<store::TemplateRow> version_template;
  std::optional<store::UserRow> initiator;
  std::vector<ResourceView> resources;
};

// A workspace with its template, owner, organization and latest build.
struct WorkspaceView {
  store::WorkspaceRow workspace;
  std::optional<store::TemplateRow> template_;
  std::optional<store::UserRow> owner;
  std::optional<store::OrganizationRow> organization;
  std::optional<BuildView> latest_build;
};

// Loads views of `workspaces`, in their order.
std::vector<WorkspaceView> load_workspace_views(store::Store& store,
                                                std::vector<store::WorkspaceRow> workspaces);
// Loads views of `builds`, in their order.
std::vector<BuildView> load_build_views(store::Store& store,
                                        std::vector<store::WorkspaceBuildRow> builds);
// Loads views of `resources`, in their order.
std::vector<ResourceView> load_resource_views(store::Store& store,
                                              std::vector<store::WorkspaceResourceRow> resources);
// Loads views of `agents`, in their order.
std::vector<AgentView> load_agent_views(store::Store& store,
                                        std::vector<store::WorkspaceAgentRow> agents);

}  // namespace berth::coderd
