#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/rows.hpp"

namespace berth::store {

// All persistent state, behind one interface with a SQLite and (later) a PostgreSQL backend.
// Methods are single statements; a caller that needs several atomically uses in_tx.
class Store {
 public:
  virtual ~Store() = default;

  // Runs `fn` in one transaction with a Store bound to it; an exception rolls it back.
  // A nested call joins the open transaction.
  virtual void in_tx(const std::function<void(Store&)>& fn) = 0;
  // Runs `fn` with every read on this thread seeing one snapshot of the database (one read
  // transaction), e.g. to render a page from several queries; writes go on as usual and are
  // not seen by those reads. A nested call, or one inside in_tx, joins what is open.
  virtual void in_read_tx(const std::function<void(Store&)>& fn) = 0;
  // Runs `fn` once what this thread's open transaction wrote is committed (now, when none is
  // open); never, when it rolls back. For notifications: whoever they wake, in this process or
  // on another replica, must find the change when it reads.
  virtual void after_commit(std::function<void()> fn) = 0;

  // Site-wide settings (deployment id, ...).
  virtual std::optional<std::string> get_site_config(const std::string& key) = 0;
  virtual void upsert_site_config(const std::string& key, const std::string& value) = 0;

  // Users
  virtual void insert_user(const UserRow& row) = 0;
  virtual std::optional<UserRow> get_user_by_id(const Uuid& id) = 0;
  virtual std::optional<UserRow> get_user_by_username(const std::string& username) = 0;
  virtual std::optional<UserRow> get_user_by_email(const std::string& email) = 0;
  virtual std::int64_t count_users() = 0;
  // The users among `ids` (deleted ones too), in no particular order; the same for the other
  // *_by_ids reads, which let a page of objects be loaded with one query per table.
  virtual std::vector<UserRow> list_users_by_ids(const std::vector<Uuid>& ids) = 0;
  virtual UserPage list_users(const ListUsersParams& params) = 0;
  virtual void update_user_roles_by_id(const Uuid& id, const std::vector<std::string>& roles,
                                       TimePoint updated_at) = 0;
  virtual void update_user_last_seen_at_by_id(const Uuid& id, TimePoint last_seen_at) = 0;
  virtual void update_user_status_by_id(const Uuid& id, const std::string& status,
                                        TimePoint updated_at) = 0;
  // Marks the user deleted (its username and email free again) and removes its API keys and
  // organization memberships, atomically.
  virtual void update_user_deleted_by_id(const Uuid& id, TimePoint updated_at) = 0;
  // The user's own quiet hours schedule; empty when they use the deployment default.
  virtual std::string get_user_quiet_hours_schedule(const Uuid& id) = 0;
  virtual void update_user_quiet_hours_schedule(const Uuid& id, const std::string& schedule,
                                                TimePoint updated_at) = 0;

  // Organizations
  virtual void insert_organization(const OrganizationRow& row) = 0;
  virtual std::optional<OrganizationRow> get_organization_by_id(const Uuid& id) = 0;
  virtual std::optional<OrganizationRow> get_organization_by_name(const std::string& name) = 0;
  virtual std::optional<OrganizationRow> get_default_organization() = 0;
  virtual std::vector<OrganizationRow> list_organizations() = 0;
  virtual std::vector<OrganizationRow> list_organizations_by_user_id(const Uuid& user_id) = 0;

  // Organization members
  virtual void insert_organization_member(const OrganizationMemberRow& row) = 0;
  virtual std::vector<OrganizationMemberRow> list_organization_members_by_organization_id(
      const Uuid& organization_id) = 0;
  virtual std::vector<OrganizationMemberRow> list_organization_members_by_user_id(
      const Uuid& user_id) = 0;

  // API keys
  virtual void insert_api_key(const ApiKeyRow& row) = 0;
  virtual std::optional<ApiKeyRow> get_api_key_by_id(const std::string& id) = 0;
  virtual std::optional<ApiKeyRow> get_api_key_by_name(const Uuid& user_id,
                                                       const std::string& token_name) = 0;
  virtual std::vector<ApiKeyRow> list_api_keys_by_user_id_and_login_type(
      const Uuid& user_id, const std::string& login_type) = 0;
  virtual std::vector<ApiKeyRow> list_api_keys_by_login_type(const std::string& login_type) = 0;
  virtual void update_api_key_usage_by_id(const std::string& id, TimePoint last_used,
                                          TimePoint expires_at, const std::string& ip_address) = 0;
  virtual bool delete_api_key_by_id(const std::string& id) = 0;

  // Files
  virtual void insert_file(const FileRow& row) = 0;
  virtual std::optional<FileRow> get_file_by_id(const Uuid& id) = 0;
  virtual std::optional<FileRow> get_file_by_hash_and_creator(const std::string& hash,
                                                              const Uuid& created_by) = 0;

  // Provisioner jobs
  virtual void insert_provisioner_job(const ProvisionerJobRow& row) = 0;
  virtual std::optional<ProvisionerJobRow> get_provisioner_job_by_id(const Uuid& id) = 0;
  virtual std::vector<ProvisionerJobRow> list_provisioner_jobs_by_ids(
      const std::vector<Uuid>& ids) = 0;
  // Claims the oldest pending job the worker may run, and atomically marks it started by the
  // worker. Coder's tag rules: every tag of the job is among the worker's, and a job with only
  // the default tags (scope=organization, owner="") runs only on a worker with exactly those;
  // its provisioner is one of the worker's, its organization the worker's when it has one.
  virtual std::optional<ProvisionerJobRow> acquire_provisioner_job(
      const AcquireJobParams& params) = 0;
  virtual void update_provisioner_job_heartbeat_by_id(const Uuid& id, TimePoint now) = 0;
  // Marks the job completed; an error (even empty-coded) makes it failed. A job that already
  // completed (e.g. failed by the reaper) keeps its first verdict.
  virtual void update_provisioner_job_completed_by_id(const Uuid& id, TimePoint now,
                                                      const std::optional<std::string>& error,
                                                      const std::string& error_code) = 0;
  // Sets canceled_at, and completed_at too when the job never started.
  virtual void update_provisioner_job_canceled_by_id(const Uuid& id, TimePoint now,
                                                     bool complete) = 0;
  // Running jobs whose heartbeat is older than `before`, and pending ones created before
  // `pending_before`: the reaper's input.
  virtual std::vector<ProvisionerJobRow> list_stale_provisioner_jobs(TimePoint before,
                                                                     TimePoint pending_before,
                                                                     std::int64_t limit) = 0;
  // Where a pending job stands (Coder's queue position): for each daemon seen at or after
  // `daemons_seen_after` that may run it, its 1-based position among the pending jobs that daemon
  // may run and their count; the best position and the largest count. With no such daemon,
  // among the pending jobs of its organization with the same tags. (0, 0) when not pending.
  virtual std::pair<std::int64_t, std::int64_t> get_provisioner_job_queue_position(
      const Uuid& id, TimePoint daemons_seen_after) = 0;

  // Provisioner job logs; inserting updates the job's logs_length and returns the new ids.
  virtual std::vector<std::int64_t> insert_provisioner_job_logs(
      const Uuid& job_id, const std::vector<ProvisionerJobLogRow>& logs,
      std::int64_t max_bytes) = 0;
  virtual std::vector<ProvisionerJobLogRow> list_provisioner_job_logs_after(const Uuid& job_id,
                                                                            std::int64_t after_id,
                                                                            std::int64_t limit) = 0;

  // Provisioner keys. Inserting a name the organization already has is Error{conflict}.
  virtual void insert_provisioner_key(const ProvisionerKeyRow& row) = 0;
  virtual std::optional<ProvisionerKeyRow> get_provisioner_key_by_hashed_secret(
      const std::string& hashed_secret) = 0;
  virtual std::optional<ProvisionerKeyRow> get_provisioner_key_by_name(const Uuid& organization_id,
                                                                       const std::string& name) = 0;
  // Oldest first.
  virtual std::vector<ProvisionerKeyRow> list_provisioner_keys_by_organization_id(
      const Uuid& organization_id) = 0;
  virtual bool delete_provisioner_key_by_id(const Uuid& id) = 0;

  // Provisioner daemons.
  // Writes the daemon's row (creating it, or updating all but created_at and the job columns).
  virtual void upsert_provisioner_daemon(const ProvisionerDaemonRow& row) = 0;
  // Forgets the other daemons of the same organization (or built in), name and key that run no
  // job: a daemon that restarted under a new id. Another key's daemon of that name, or one
  // whose job is still running, stays.
  virtual void delete_provisioner_daemons_by_name(const std::optional<Uuid>& organization_id,
                                                  const std::string& name,
                                                  const std::optional<Uuid>& key_id,
                                                  const Uuid& except_id) = 0;
  virtual void delete_provisioner_daemons_by_key_id(const Uuid& key_id) = 0;
  // Forgets the daemons last heard from before `before`; returns how many.
  virtual std::int64_t delete_provisioner_daemons_seen_before(TimePoint before) = 0;
  virtual std::optional<ProvisionerDaemonRow> get_provisioner_daemon_by_id(const Uuid& id) = 0;
  // The organization's daemons and the built-in ones, oldest first.
  virtual std::vector<ProvisionerDaemonRow> list_provisioner_daemons_by_organization_id(
      const Uuid& organization_id, std::int64_t limit) = 0;
  virtual void update_provisioner_daemon_last_seen_by_id(const Uuid& id, TimePoint now) = 0;
  // The daemon took `job_id`: it is its current job.
  virtual void update_provisioner_daemon_current_job_by_id(const Uuid& id, const Uuid& job_id) = 0;
  // `job_id` ended: on the daemon whose current job it was, it becomes the previous one.
  virtual void update_provisioner_daemon_job_finished(const Uuid& job_id) = 0;

  // Templates
  virtual void insert_template(const TemplateRow& row) = 0;
  virtual std::optional<TemplateRow> get_template_by_id(const Uuid& id) = 0;
  virtual std::vector<TemplateRow> list_templates_by_ids(const std::vector<Uuid>& ids) = 0;
  virtual std::optional<TemplateRow> get_template_by_organization_and_name(
      const Uuid& organization_id, const std::string& name) = 0;
  // Non-deleted templates matching the filters and the caller's authorization, by name
  // (lower(name), then id).
  virtual std::vector<TemplateRow> list_templates(const ListTemplatesParams& params) = 0;
  // Rewrites the mutable columns (names, icon, policy, active version, deleted).
  virtual void update_template(const TemplateRow& row) = 0;

  // Template versions
  virtual void insert_template_version(const TemplateVersionRow& row) = 0;
  virtual std::optional<TemplateVersionRow> get_template_version_by_id(const Uuid& id) = 0;
  virtual std::vector<TemplateVersionRow> list_template_versions_by_ids(
      const std::vector<Uuid>& ids) = 0;
  virtual std::optional<TemplateVersionRow> get_template_version_by_job_id(const Uuid& job_id) = 0;
  virtual std::optional<TemplateVersionRow> get_template_version_by_template_and_name(
      const Uuid& template_id, const std::string& name) = 0;
  virtual std::vector<TemplateVersionRow> list_template_versions_by_template_id(
      const Uuid& template_id) = 0;
  virtual void update_template_version_name_and_message(const Uuid& id, const std::string& name,
                                                        const std::string& message,
                                                        TimePoint now) = 0;
  virtual void update_template_version_template_id(const Uuid& id, const Uuid& template_id,
                                                   TimePoint now) = 0;
  virtual void update_template_version_import_result(const Uuid& id,
                                                     const TemplateVersionImportResult& result,
                                                     TimePoint now) = 0;

  // Workspaces
  virtual void insert_workspace(const WorkspaceRow& row) = 0;
  virtual std::optional<WorkspaceRow> get_workspace_by_id(const Uuid& id) = 0;
  // Deleted ones too.
  virtual std::vector<WorkspaceRow> list_workspaces_by_ids(const std::vector<Uuid>& ids) = 0;
  // The live workspace of that name, or (include_deleted) the newest deleted one.
  virtual std::optional<WorkspaceRow> get_workspace_by_owner_and_name(const Uuid& owner_id,
                                                                      const std::string& name,
                                                                      bool include_deleted) = 0;
  // Non-deleted workspaces matching the filters (no paging: callers order and page).
  virtual std::vector<WorkspaceRow> list_workspaces(const ListWorkspacesParams& params) = 0;
  // The workspaces the lifecycle executor may have to act on at `now` (a superset, in one
  // query): a finished start past its deadline or owned by a suspended user, a finished stop
  // with an autostart schedule, a failed build, one unused past its template's
  // time_til_dormant, a dormant one past deleting_at. The executor applies the exact rules.
  virtual std::vector<WorkspaceRow> list_lifecycle_candidates(TimePoint now) = 0;
  virtual std::int64_t count_workspaces_by_template_id(const Uuid& template_id) = 0;
  // The same filter as list_workspaces, with each row's summary, in one query.
  virtual std::vector<WorkspaceSummary> list_workspace_summaries(
      const ListWorkspacesParams& params) = 0;
  // One page in Coder's list order (the viewer's favourites, running ones, owner, name) and
  // the number that matched, for callers who may read every row.
  virtual std::vector<WorkspaceSummary> list_workspace_summaries_page(
      const ListWorkspacesParams& params, const Uuid& viewer, std::int64_t limit,
      std::int64_t offset) = 0;
  virtual std::int64_t count_workspaces(const ListWorkspacesParams& params) = 0;
  // Rewrites the mutable columns.
  virtual void update_workspace(const WorkspaceRow& row) = 0;

  // Workspace builds
  virtual void insert_workspace_build(const WorkspaceBuildRow& row) = 0;
  virtual std::optional<WorkspaceBuildRow> get_workspace_build_by_id(const Uuid& id) = 0;
  virtual std::optional<WorkspaceBuildRow> get_workspace_build_by_job_id(const Uuid& job_id) = 0;
  virtual std::optional<WorkspaceBuildRow> get_latest_workspace_build(const Uuid& workspace_id) = 0;
  // The latest build of each of the workspaces that has one.
  virtual std::vector<WorkspaceBuildRow> list_latest_workspace_builds(
      const std::vector<Uuid>& workspace_ids) = 0;
  virtual std::optional<WorkspaceBuildRow> get_workspace_build_by_number(const Uuid& workspace_id,
                                                                         std::int64_t number) = 0;
  // Newest first.
  virtual std::vector<WorkspaceBuildRow> list_workspace_builds(const Uuid& workspace_id) = 0;
  // One page of them, newest first: those created after `created_after` and numbered above
  // `number_after` when given, `offset` skipped, at most `limit` (all when limit <= 0).
  virtual std::vector<WorkspaceBuildRow> list_workspace_builds_page(
      const Uuid& workspace_id, std::optional<TimePoint> created_after,
      std::optional<std::int64_t> number_after, std::int64_t limit, std::int64_t offset) = 0;
  virtual void update_workspace_build_completion(const Uuid& id, const std::string& state,
                                                 std::optional<TimePoint> deadline,
                                                 std::optional<TimePoint> max_deadline,
                                                 bool has_ai_task, std::int64_t daily_cost,
                                                 TimePoint now) = 0;
  virtual void update_workspace_build_deadline(const Uuid& id, std::optional<TimePoint> deadline,
                                               TimePoint now) = 0;
  virtual void update_workspace_build_deadlines(const Uuid& id, std::optional<TimePoint> deadline,
                                                std::optional<TimePoint> max_deadline,
                                                TimePoint now) = 0;
  virtual void update_workspace_build_state(const Uuid& id, const std::string& state,
                                            TimePoint now) = 0;
  virtual void insert_build_parameters(const Uuid& build_id,
                                       const std::vector<BuildParameterRow>& parameters) = 0;
  virtual std::vector<BuildParameterRow> list_build_parameters(const Uuid& build_id) = 0;

  // Resources and agents
  virtual void insert_workspace_resource(const WorkspaceResourceRow& row) = 0;
  virtual std::vector<WorkspaceResourceRow> list_workspace_resources_by_job_id(
      const Uuid& job_id) = 0;
  // In each job's order (as list_workspace_resources_by_job_id).
  virtual std::vector<WorkspaceResourceRow> list_workspace_resources_by_job_ids(
      const std::vector<Uuid>& job_ids) = 0;
  virtual void insert_workspace_agent(const WorkspaceAgentRow& row) = 0;
  virtual std::optional<WorkspaceAgentRow> get_workspace_agent_by_id(const Uuid& id) = 0;
  // Deleted ones too.
  virtual std::vector<WorkspaceAgentRow> list_workspace_agents_by_ids(
      const std::vector<Uuid>& ids) = 0;
  virtual std::optional<WorkspaceAgentRow> get_workspace_agent_by_token_hash(
      const std::string& hash) = 0;
  virtual std::vector<WorkspaceAgentRow> list_workspace_agents_by_resource_id(
      const Uuid& resource_id) = 0;
  // In each resource's order (as list_workspace_agents_by_resource_id).
  virtual std::vector<WorkspaceAgentRow> list_workspace_agents_by_resource_ids(
      const std::vector<Uuid>& resource_ids) = 0;
  virtual std::optional<WorkspaceResourceRow> get_workspace_resource_by_id(const Uuid& id) = 0;
  virtual void update_workspace_agent_connection_by_id(const Uuid& id,
                                                       std::optional<TimePoint> first_connected_at,
                                                       std::optional<TimePoint> last_connected_at,
                                                       std::optional<TimePoint> disconnected_at,
                                                       TimePoint now) = 0;
  virtual void update_workspace_agent_startup_by_id(const Uuid& id, const std::string& version,
                                                    const std::string& api_version,
                                                    const std::string& expanded_directory,
                                                    TimePoint now) = 0;
  virtual void update_workspace_agent_lifecycle_by_id(const Uuid& id,
                                                      sdk::WorkspaceAgentLifecycle state,
                                                      std::optional<TimePoint> started_at,
                                                      std::optional<TimePoint> ready_at,
                                                      TimePoint now) = 0;
  virtual void update_workspace_agent_logs_length_by_id(const Uuid& id, std::int64_t length,
                                                        bool overflowed) = 0;

  // Agent reports
  // Returns the new rows' ids, in order.
  virtual std::vector<std::int64_t> insert_workspace_agent_logs(
      const std::vector<WorkspaceAgentLogRow>& logs) = 0;
  virtual std::vector<WorkspaceAgentLogRow> list_workspace_agent_logs_after(const Uuid& agent_id,
                                                                            std::int64_t after_id,
                                                                            std::int64_t limit) = 0;
  virtual void upsert_workspace_agent_log_source(const WorkspaceAgentLogSourceRow& row) = 0;
  virtual std::vector<WorkspaceAgentLogSourceRow> list_workspace_agent_log_sources(
      const Uuid& agent_id) = 0;
  virtual std::vector<WorkspaceAgentLogSourceRow> list_workspace_agent_log_sources_by_agent_ids(
      const std::vector<Uuid>& agent_ids) = 0;
  virtual void upsert_workspace_app_health(const WorkspaceAppHealthRow& row) = 0;
  virtual std::vector<WorkspaceAppHealthRow> list_workspace_app_health(const Uuid& agent_id) = 0;
  virtual std::vector<WorkspaceAppHealthRow> list_workspace_app_health_by_agent_ids(
      const std::vector<Uuid>& agent_ids) = 0;
  virtual void upsert_workspace_agent_metadata(const WorkspaceAgentMetadataRow& row) = 0;
  virtual std::vector<WorkspaceAgentMetadataRow> list_workspace_agent_metadata(
      const Uuid& agent_id) = 0;
  virtual void insert_workspace_agent_script_timing(const WorkspaceAgentScriptTimingRow& row) = 0;
  virtual std::vector<WorkspaceAgentScriptTimingRow> list_workspace_agent_script_timings(
      const Uuid& agent_id) = 0;
  virtual void upsert_workspace_agent_stats(const WorkspaceAgentStatsRow& row) = 0;
  virtual std::optional<WorkspaceAgentStatsRow> get_workspace_agent_stats(const Uuid& agent_id) = 0;
  virtual std::vector<WorkspaceAgentStatsRow> list_workspace_agent_stats_by_agent_ids(
      const std::vector<Uuid>& agent_ids) = 0;

  // Tasks
  virtual void insert_task(const TaskRow& row) = 0;
  virtual std::optional<TaskRow> get_task_by_id(const Uuid& id) = 0;  // live tasks only
  virtual std::optional<TaskRow> get_task_by_owner_and_name(const Uuid& owner_id,
                                                            const std::string& name) = 0;
  virtual std::optional<TaskRow> get_task_by_workspace_id(const Uuid& workspace_id) = 0;
  // Live tasks matching the filters, the caller's authorization and the status, newest
  // first (then by id); no paging, as in Coder.
  virtual std::vector<TaskRow> list_tasks(const ListTasksParams& params) = 0;
  virtual void update_task_workspace_id(const Uuid& id, const Uuid& workspace_id) = 0;
  virtual void update_task_prompt(const Uuid& id, const std::string& prompt) = 0;
  virtual void delete_task(const Uuid& id, TimePoint now) = 0;  // soft delete
  virtual void upsert_task_workspace_app(const TaskWorkspaceAppRow& row) = 0;
  virtual std::optional<TaskWorkspaceAppRow> get_latest_task_workspace_app(const Uuid& task_id) = 0;
  // The latest app row of each of the tasks that has one.
  virtual std::vector<TaskWorkspaceAppRow> list_latest_task_workspace_apps(
      const std::vector<Uuid>& task_ids) = 0;
  // The build each of those latest rows names (its task's workspace, its build number).
  virtual std::vector<WorkspaceBuildRow> list_latest_task_workspace_app_builds(
      const std::vector<Uuid>& task_ids) = 0;
  virtual void upsert_task_snapshot(const TaskSnapshotRow& row) = 0;
  virtual std::optional<TaskSnapshotRow> get_task_snapshot(const Uuid& task_id) = 0;
  virtual void insert_workspace_app_status(const WorkspaceAppStatusRow& row) = 0;
  virtual std::optional<WorkspaceAppStatusRow> get_latest_workspace_app_status(
      const Uuid& workspace_id) = 0;
  // The latest status of each of the workspaces that has one (as
  // get_latest_workspace_app_status).
  virtual std::vector<WorkspaceAppStatusRow> list_latest_workspace_app_statuses(
      const std::vector<Uuid>& workspace_ids) = 0;
  virtual std::optional<WorkspaceAppStatusRow> get_latest_app_status_by_app(
      const Uuid& agent_id, const std::string& app_id) = 0;

  // Audit log
  virtual void insert_audit_log(const AuditLogRow& row) = 0;
  // Newest first, one page (all with limit <= 0).
  virtual std::vector<AuditLogRow> list_audit_logs(const ListAuditLogsParams& params,
                                                   std::int64_t limit, std::int64_t offset) = 0;
  virtual std::int64_t count_audit_logs(const ListAuditLogsParams& params) = 0;

  // Leases: true if `holder` now holds `name` until `expires_at` (free, expired, or its own).
  virtual bool try_acquire_lease(const std::string& name, const std::string& holder, TimePoint now,
                                 TimePoint expires_at) = 0;
  virtual void release_lease(const std::string& name, const std::string& holder) = 0;

  // Replicas: the `berth server` processes sharing this database.
  // Writes the replica's row, replacing one with its id.
  virtual void upsert_replica(const ReplicaRow& row) = 0;
  virtual std::optional<ReplicaRow> get_replica_by_id(const Uuid& id) = 0;
  // A heartbeat: updated_at, the latency measured and what is wrong (empty: nothing). False
  // when the replica has no row (deleted while it was silent).
  virtual bool update_replica_heartbeat(const Uuid& id, TimePoint now,
                                        std::int64_t database_latency_us,
                                        const std::string& error) = 0;
  // Marks the replica stopped (a clean shutdown) at `now`.
  virtual void update_replica_stopped(const Uuid& id, TimePoint now) = 0;
  // The replicas heard from at or after `updated_after` and not stopped, oldest first.
  virtual std::vector<ReplicaRow> list_alive_replicas(TimePoint updated_after) = 0;
  // Forgets the replicas last heard from (or stopped) before `before`; returns how many.
  virtual std::int64_t delete_replicas_updated_before(TimePoint before) = 0;

  // Agent connections: which replica holds each agent's live connection.
  // Records that `replica_id` holds the agent's connection now (replacing any other's).
  virtual void upsert_agent_connection(const Uuid& agent_id, const Uuid& replica_id,
                                       TimePoint now) = 0;
  // Forgets the agent's connection only while `replica_id` holds it (a newer one elsewhere
  // stays); true if it did.
  virtual bool delete_agent_connection(const Uuid& agent_id, const Uuid& replica_id) = 0;
  // The replica holding the agent's connection, if it is alive (heard from at or after
  // `alive_after` and not stopped).
  virtual std::optional<ReplicaRow> get_agent_connection_replica(const Uuid& agent_id,
                                                                 TimePoint alive_after) = 0;
};

}  // namespace berth::store
