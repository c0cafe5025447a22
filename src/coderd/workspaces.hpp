#pragma once

#include <optional>
#include <string>
#include <vector>

#include "coderd/provisioner_jobs.hpp"
#include "coderd/rbac.hpp"
#include "common/clock.hpp"
#include "store/pubsub.hpp"
#include "store/store.hpp"

namespace berth::coderd {

// Pubsub channel of one workspace: any change to it, its builds, jobs or agents.
std::string workspace_channel(const Uuid& workspace_id);

// A build's (and so a workspace's) status from its transition and its job's status.
sdk::WorkspaceStatus build_status(sdk::WorkspaceTransition transition,
                                  sdk::ProvisionerJobStatus job_status);

// The object RBAC decides workspace questions about.
Object workspace_object(const store::WorkspaceRow& workspace);

// What `POST /users/{user}/workspaces` asks for, checked for shape.
struct CreateWorkspaceParams {
  std::string name;
  std::optional<Uuid> template_id;
  std::optional<Uuid> template_version_id;
  std::vector<store::BuildParameterRow> parameters;
  std::optional<std::int64_t> ttl_ms;
  std::string autostart_schedule;
  std::string automatic_updates;
  std::optional<Uuid> preset_id;
};

// What a new build asks for.
struct BuildParams {
  sdk::WorkspaceTransition transition = sdk::WorkspaceTransition::start;
  std::optional<Uuid> template_version_id;
  std::vector<store::BuildParameterRow> parameters;
  bool orphan = false;
  std::optional<std::string> state;
  std::string reason = "initiator";
  std::optional<Uuid> preset_id;
  bool use_active_version = false;  // autostart with automatic updates, or require_active_version
};

// Validates a TTL the way Coder does (whole minutes, 1 minute to 30 days); returns the reason.
std::optional<std::string> ttl_problem(std::int64_t ttl_ms);

// The rules for workspaces and their builds.
class Workspaces {
 public:
  Workspaces(store::Store& store, store::Pubsub& pubsub, JobQueue& jobs, const Clock& clock);

  // Creates the workspace and its first (start) build in one transaction.
  std::pair<store::WorkspaceRow, store::WorkspaceBuildRow> create(
      const Subject& actor, const store::UserRow& owner, const CreateWorkspaceParams& params);
  // Queues a start, stop or delete. `actor` is null for the lifecycle executor (no checks).
  store::WorkspaceBuildRow build(const Subject* actor, const Uuid& initiator,
                                 const store::WorkspaceRow& workspace, const BuildParams& params);
  void cancel_build(const Subject& actor, const store::WorkspaceBuildRow& build,
                    const std::optional<std::string>& expect_status);

  void rename(const Subject& actor, store::WorkspaceRow workspace, const std::string& name);
  void set_autostart(const Subject& actor, store::WorkspaceRow workspace,
                     const std::optional<std::string>& schedule);
  void set_ttl(const Subject& actor, store::WorkspaceRow workspace,
               std::optional<std::int64_t> ttl_ms);
  void set_automatic_updates(const Subject& actor, store::WorkspaceRow workspace,
                             const std::string& mode);
  void set_dormant(const Subject& actor, store::WorkspaceRow workspace, bool dormant);
  // Moves the running build's deadline; returns the new deadline.
  TimePoint extend(const Subject& actor, const store::WorkspaceRow& workspace, TimePoint deadline);
  void set_favorite(const Subject& actor, store::WorkspaceRow workspace, bool favorite);
  // Records use: last_used_at now, and an activity bump of the deadline (Coder's rule).
  void record_usage(const Subject& actor, store::WorkspaceRow workspace, bool bump);
  // Moves a running workspace's deadline out by the template's activity bump: only after 5%
  // of the bump has passed since the last one, never earlier, never past max_deadline.
  void bump_activity(const store::WorkspaceRow& workspace);

  // Updates the workspace row and tells watchers.
  void save(store::WorkspaceRow workspace);

 private:
  void require(const Subject& actor, Action action, const store::WorkspaceRow& workspace,
               const std::string& verb) const;

  store::Store& store_;
  store::Pubsub& pubsub_;
  JobQueue& jobs_;
  const Clock& clock_;
};

// The activity bump (Workspaces::bump_activity's rule) for callers without a Workspaces, such
// as agents reporting sessions.
void bump_workspace_activity(store::Store& store, const store::WorkspaceRow& workspace,
                             TimePoint now);

// After a template's autostop requirement changed: recomputes max_deadline of its workspaces'
// running builds from their completion (Coder: never sooner than 2 hours from now) and pulls
// deadlines in to it. Builds already within 2 hours of their max_deadline are left alone.
void refresh_max_deadlines(store::Store& tx, const store::TemplateRow& tmpl, TimePoint now);

// When the next autostart may happen for a schedule (within a week), honouring the
// template's allowed days; nullopt if none or the schedule is invalid.
std::optional<TimePoint> next_autostart(const std::string& schedule,
                                        const std::vector<std::string>& allowed_days,
                                        TimePoint after);

}  // namespace berth::coderd
