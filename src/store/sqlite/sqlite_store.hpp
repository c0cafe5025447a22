#pragma once

#include <mutex>
#include <string>

#include "store/sqlite/connection_pool.hpp"
#include "store/sqlite/statement.hpp"
#include "store/store.hpp"

namespace berth::store::sqlite {

// The embedded backend: one SQLite file in WAL mode. Reads go to a pool of connections and run
// in parallel; writes and transactions go to the one writer connection (ConnectionPool).
class SqliteStore final : public Store {
 public:
  // Opens (creating if needed) and migrates the database at `path`.
  explicit SqliteStore(const std::string& path);
  // The same store over another engine's connections (PostgreSQL): `writer` already migrated.
  SqliteStore(std::unique_ptr<Database> writer, ConnectionPool::ReaderFactory open_reader);

  void in_tx(const std::function<void(Store&)>& fn) override;
  void in_read_tx(const std::function<void(Store&)>& fn) override;
  void after_commit(std::function<void()> fn) override;

  std::optional<std::string> get_site_config(const std::string& key) override;
  void upsert_site_config(const std::string& key, const std::string& value) override;

  // Users
  void insert_user(const UserRow& row) override;
  std::optional<UserRow> get_user_by_id(const Uuid& id) override;
  std::vector<UserRow> list_users_by_ids(const std::vector<Uuid>& ids) override;
  std::optional<UserRow> get_user_by_username(const std::string& username) override;
  std::optional<UserRow> get_user_by_email(const std::string& email) override;
  std::int64_t count_users() override;
  UserPage list_users(const ListUsersParams& params) override;
  void update_user_roles_by_id(const Uuid& id, const std::vector<std::string>& roles,
                               TimePoint updated_at) override;
  void update_user_last_seen_at_by_id(const Uuid& id, TimePoint last_seen_at) override;
  void update_user_status_by_id(const Uuid& id, const std::string& status,
                                TimePoint updated_at) override;
  void update_user_deleted_by_id(const Uuid& id, TimePoint updated_at) override;
  std::string get_user_quiet_hours_schedule(const Uuid& id) override;
  void update_user_quiet_hours_schedule(const Uuid& id, const std::string& schedule,
                                        TimePoint updated_at) override;

  // Organizations
  void insert_organization(const OrganizationRow& row) override;
  std::optional<OrganizationRow> get_organization_by_id(const Uuid& id) override;
  std::optional<OrganizationRow> get_organization_by_name(const std::string& name) override;
  std::optional<OrganizationRow> get_default_organization() override;
  std::vector<OrganizationRow> list_organizations() override;
  std::vector<OrganizationRow> list_organizations_by_user_id(const Uuid& user_id) override;

  // Organization members
  void insert_organization_member(const OrganizationMemberRow& row) override;
  std::vector<OrganizationMemberRow> list_organization_members_by_organization_id(
      const Uuid& organization_id) override;
  std::vector<OrganizationMemberRow> list_organization_members_by_user_id(
      const Uuid& user_id) override;

  // API keys
  void insert_api_key(const ApiKeyRow& row) override;
  std::optional<ApiKeyRow> get_api_key_by_id(const std::string& id) override;
  std::optional<ApiKeyRow> get_api_key_by_name(const Uuid& user_id,
                                               const std::string& token_name) override;
  std::vector<ApiKeyRow> list_api_keys_by_user_id_and_login_type(
      const Uuid& user_id, const std::string& login_type) override;
  std::vector<ApiKeyRow> list_api_keys_by_login_type(const std::string& login_type) override;
  void update_api_key_usage_by_id(const std::string& id, TimePoint last_used, TimePoint expires_at,
                                  const std::string& ip_address) override;
  bool delete_api_key_by_id(const std::string& id) override;

  // Files
  void insert_file(const FileRow& row) override;
  std::optional<FileRow> get_file_by_id(const Uuid& id) override;
  std::optional<FileRow> get_file_by_hash_and_creator(const std::string& hash,
                                                      const Uuid& created_by) override;

  // Provisioner jobs
  void insert_provisioner_job(const ProvisionerJobRow& row) override;
  std::optional<ProvisionerJobRow> get_provisioner_job_by_id(const Uuid& id) override;
  std::vector<ProvisionerJobRow> list_provisioner_jobs_by_ids(
      const std::vector<Uuid>& ids) override;
  std::optional<ProvisionerJobRow> acquire_provisioner_job(const AcquireJobParams& params) override;
  void update_provisioner_job_heartbeat_by_id(const Uuid& id, TimePoint now) override;
  void update_provisioner_job_completed_by_id(const Uuid& id, TimePoint now,
                                              const std::optional<std::string>& error,
                                              const std::string& error_code) override;
  void update_provisioner_job_canceled_by_id(const Uuid& id, TimePoint now, bool complete) override;
  std::vector<ProvisionerJobRow> list_stale_provisioner_jobs(TimePoint before,
                                                             TimePoint pending_before,
                                                             std::int64_t limit) override;
  std::pair<std::int64_t, std::int64_t> get_provisioner_job_queue_position(
      const Uuid& id, TimePoint daemons_seen_after) override;
  std::vector<std::int64_t> insert_provisioner_job_logs(
      const Uuid& job_id, const std::vector<ProvisionerJobLogRow>& logs,
      std::int64_t max_bytes) override;
  std::vector<ProvisionerJobLogRow> list_provisioner_job_logs_after(const Uuid& job_id,
                                                                    std::int64_t after_id,
                                                                    std::int64_t limit) override;

  // Provisioner keys
  void insert_provisioner_key(const ProvisionerKeyRow& row) override;
  std::optional<ProvisionerKeyRow> get_provisioner_key_by_hashed_secret(
      const std::string& hashed_secret) override;
  std::optional<ProvisionerKeyRow> get_provisioner_key_by_name(const Uuid& organization_id,
                                                               const std::string& name) override;
  std::vector<ProvisionerKeyRow> list_provisioner_keys_by_organization_id(
      const Uuid& organization_id) override;
  bool delete_provisioner_key_by_id(const Uuid& id) override;

  // Provisioner daemons
  void upsert_provisioner_daemon(const ProvisionerDaemonRow& row) override;
  void delete_provisioner_daemons_by_name(const std::optional<Uuid>& organization_id,
                                          const std::string& name,
                                          const std::optional<Uuid>& key_id,
                                          const Uuid& except_id) override;
  void delete_provisioner_daemons_by_key_id(const Uuid& key_id) override;
  std::int64_t delete_provisioner_daemons_seen_before(TimePoint before) override;
  std::optional<ProvisionerDaemonRow> get_provisioner_daemon_by_id(const Uuid& id) override;
  std::vector<ProvisionerDaemonRow> list_provisioner_daemons_by_organization_id(
      const Uuid& organization_id, std::int64_t limit) override;
  void update_provisioner_daemon_last_seen_by_id(const Uuid& id, TimePoint now) override;
  void update_provisioner_daemon_current_job_by_id(const Uuid& id, const Uuid& job_id) override;
  void update_provisioner_daemon_job_finished(const Uuid& job_id) override;

  // Templates
  void insert_template(const TemplateRow& row) override;
  std::optional<TemplateRow> get_template_by_id(const Uuid& id) override;
  std::vector<TemplateRow> list_templates_by_ids(const std::vector<Uuid>& ids) override;
  std::optional<TemplateRow> get_template_by_organization_and_name(
      const Uuid& organization_id, const std::string& name) override;
  std::vector<TemplateRow> list_templates(const ListTemplatesParams& params) override;
  void update_template(const TemplateRow& row) override;

  // Template versions
  void insert_template_version(const TemplateVersionRow& row) override;
  std::optional<TemplateVersionRow> get_template_version_by_id(const Uuid& id) override;
  std::vector<TemplateVersionRow> list_template_versions_by_ids(
      const std::vector<Uuid>& ids) override;
  std::optional<TemplateVersionRow> get_template_version_by_job_id(const Uuid& job_id) override;
  std::optional<TemplateVersionRow> get_template_version_by_template_and_name(
      const Uuid& template_id, const std::string& name) override;
  std::vector<TemplateVersionRow> list_template_versions_by_template_id(
      const Uuid& template_id) override;
  void update_template_version_name_and_message(const Uuid& id, const std::string& name,
                                                const std::string& message, TimePoint now) override;
  void update_template_version_template_id(const Uuid& id, const Uuid& template_id,
                                           TimePoint now) override;
  void update_template_version_import_result(const Uuid& id,
                                             const TemplateVersionImportResult& result,
                                             TimePoint now) override;

  // Workspaces
  void insert_workspace(const WorkspaceRow& row) override;
  std::optional<WorkspaceRow> get_workspace_by_id(const Uuid& id) override;
  std::vector<WorkspaceRow> list_workspaces_by_ids(const std::vector<Uuid>& ids) override;
  std::optional<WorkspaceRow> get_workspace_by_owner_and_name(const Uuid& owner_id,
                                                              const std::string& name,
                                                              bool include_deleted) override;
  std::vector<WorkspaceRow> list_workspaces(const ListWorkspacesParams& params) override;
  std::vector<WorkspaceRow> list_lifecycle_candidates(TimePoint now) override;
  std::int64_t count_workspaces_by_template_id(const Uuid& template_id) override;
  std::vector<WorkspaceSummary> list_workspace_summaries(
      const ListWorkspacesParams& params) override;
  std::vector<WorkspaceSummary> list_workspace_summaries_page(const ListWorkspacesParams& params,
                                                              const Uuid& viewer,
                                                              std::int64_t limit,
                                                              std::int64_t offset) override;
  std::int64_t count_workspaces(const ListWorkspacesParams& params) override;
  void update_workspace(const WorkspaceRow& row) override;

  // Workspace builds
  void insert_workspace_build(const WorkspaceBuildRow& row) override;
  std::optional<WorkspaceBuildRow> get_workspace_build_by_id(const Uuid& id) override;
  std::optional<WorkspaceBuildRow> get_workspace_build_by_job_id(const Uuid& job_id) override;
  std::optional<WorkspaceBuildRow> get_latest_workspace_build(const Uuid& workspace_id) override;
  std::vector<WorkspaceBuildRow> list_latest_workspace_builds(
      const std::vector<Uuid>& workspace_ids) override;
  std::optional<WorkspaceBuildRow> get_workspace_build_by_number(const Uuid& workspace_id,
                                                                 std::int64_t number) override;
  std::vector<WorkspaceBuildRow> list_workspace_builds(const Uuid& workspace_id) override;
  std::vector<WorkspaceBuildRow> list_workspace_builds_page(
      const Uuid& workspace_id, std::optional<TimePoint> created_after,
      std::optional<std::int64_t> number_after, std::int64_t limit, std::int64_t offset) override;
  void update_workspace_build_completion(const Uuid& id, const std::string& state,
                                         std::optional<TimePoint> deadline,
                                         std::optional<TimePoint> max_deadline, bool has_ai_task,
                                         std::int64_t daily_cost, TimePoint now) override;
  void update_workspace_build_deadline(const Uuid& id, std::optional<TimePoint> deadline,
                                       TimePoint now) override;
  void update_workspace_build_deadlines(const Uuid& id, std::optional<TimePoint> deadline,
                                        std::optional<TimePoint> max_deadline,
                                        TimePoint now) override;
  void update_workspace_build_state(const Uuid& id, const std::string& state,
                                    TimePoint now) override;
  void insert_build_parameters(const Uuid& build_id,
                               const std::vector<BuildParameterRow>& parameters) override;
  std::vector<BuildParameterRow> list_build_parameters(const Uuid& build_id) override;

  // Resources and agents
  void insert_workspace_resource(const WorkspaceResourceRow& row) override;
  std::vector<WorkspaceResourceRow> list_workspace_resources_by_job_id(const Uuid& job_id) override;
  std::vector<WorkspaceResourceRow> list_workspace_resources_by_job_ids(
      const std::vector<Uuid>& job_ids) override;
  void insert_workspace_agent(const WorkspaceAgentRow& row) override;
  std::optional<WorkspaceAgentRow> get_workspace_agent_by_id(const Uuid& id) override;
  std::vector<WorkspaceAgentRow> list_workspace_agents_by_ids(
      const std::vector<Uuid>& ids) override;
  std::optional<WorkspaceAgentRow> get_workspace_agent_by_token_hash(
      const std::string& hash) override;
  std::vector<WorkspaceAgentRow> list_workspace_agents_by_resource_ids(
      const std::vector<Uuid>& resource_ids) override;
  std::vector<WorkspaceAgentRow> list_workspace_agents_by_resource_id(
      const Uuid& resource_id) override;
  std::optional<WorkspaceResourceRow> get_workspace_resource_by_id(const Uuid& id) override;
  void update_workspace_agent_connection_by_id(const Uuid& id,
                                               std::optional<TimePoint> first_connected_at,
                                               std::optional<TimePoint> last_connected_at,
                                               std::optional<TimePoint> disconnected_at,
                                               TimePoint now) override;
  void update_workspace_agent_startup_by_id(const Uuid& id, const std::string& version,
                                            const std::string& api_version,
                                            const std::string& expanded_directory,
                                            TimePoint now) override;
  void update_workspace_agent_lifecycle_by_id(const Uuid& id, sdk::WorkspaceAgentLifecycle state,
                                              std::optional<TimePoint> started_at,
                                              std::optional<TimePoint> ready_at,
                                              TimePoint now) override;
  void update_workspace_agent_logs_length_by_id(const Uuid& id, std::int64_t length,
                                                bool overflowed) override;

  // Agent reports
  std::vector<std::int64_t> insert_workspace_agent_logs(
      const std::vector<WorkspaceAgentLogRow>& logs) override;
  std::vector<WorkspaceAgentLogRow> list_workspace_agent_logs_after(const Uuid& agent_id,
                                                                    std::int64_t after_id,
                                                                    std::int64_t limit) override;
  void upsert_workspace_agent_log_source(const WorkspaceAgentLogSourceRow& row) override;
  std::vector<WorkspaceAgentLogSourceRow> list_workspace_agent_log_sources_by_agent_ids(
      const std::vector<Uuid>& agent_ids) override;
  std::vector<WorkspaceAgentLogSourceRow> list_workspace_agent_log_sources(
      const Uuid& agent_id) override;
  void upsert_workspace_app_health(const WorkspaceAppHealthRow& row) override;
  std::vector<WorkspaceAppHealthRow> list_workspace_app_health(const Uuid& agent_id) override;
  std::vector<WorkspaceAppHealthRow> list_workspace_app_health_by_agent_ids(
      const std::vector<Uuid>& agent_ids) override;
  void upsert_workspace_agent_metadata(const WorkspaceAgentMetadataRow& row) override;
  std::vector<WorkspaceAgentMetadataRow> list_workspace_agent_metadata(
      const Uuid& agent_id) override;
  void insert_workspace_agent_script_timing(const WorkspaceAgentScriptTimingRow& row) override;
  std::vector<WorkspaceAgentScriptTimingRow> list_workspace_agent_script_timings(
      const Uuid& agent_id) override;
  void upsert_workspace_agent_stats(const WorkspaceAgentStatsRow& row) override;
  std::optional<WorkspaceAgentStatsRow> get_workspace_agent_stats(const Uuid& agent_id) override;
  std::vector<WorkspaceAgentStatsRow> list_workspace_agent_stats_by_agent_ids(
      const std::vector<Uuid>& agent_ids) override;

  // Tasks
  void insert_task(const TaskRow& row) override;
  std::optional<TaskRow> get_task_by_id(const Uuid& id) override;
  std::optional<TaskRow> get_task_by_owner_and_name(const Uuid& owner_id,
                                                    const std::string& name) override;
  std::optional<TaskRow> get_task_by_workspace_id(const Uuid& workspace_id) override;
  std::vector<TaskRow> list_tasks(const ListTasksParams& params) override;
  void update_task_workspace_id(const Uuid& id, const Uuid& workspace_id) override;
  void update_task_prompt(const Uuid& id, const std::string& prompt) override;
  void delete_task(const Uuid& id, TimePoint now) override;
  void upsert_task_workspace_app(const TaskWorkspaceAppRow& row) override;
  std::optional<TaskWorkspaceAppRow> get_latest_task_workspace_app(const Uuid& task_id) override;
  std::vector<TaskWorkspaceAppRow> list_latest_task_workspace_apps(
      const std::vector<Uuid>& task_ids) override;
  std::vector<WorkspaceBuildRow> list_latest_task_workspace_app_builds(
      const std::vector<Uuid>& task_ids) override;
  void upsert_task_snapshot(const TaskSnapshotRow& row) override;
  std::optional<TaskSnapshotRow> get_task_snapshot(const Uuid& task_id) override;
  void insert_workspace_app_status(const WorkspaceAppStatusRow& row) override;
  std::optional<WorkspaceAppStatusRow> get_latest_workspace_app_status(
      const Uuid& workspace_id) override;
  std::vector<WorkspaceAppStatusRow> list_latest_workspace_app_statuses(
      const std::vector<Uuid>& workspace_ids) override;
  std::optional<WorkspaceAppStatusRow> get_latest_app_status_by_app(
      const Uuid& agent_id, const std::string& app_id) override;

  // Leases
  void insert_audit_log(const AuditLogRow& row) override;
  std::vector<AuditLogRow> list_audit_logs(const ListAuditLogsParams& params, std::int64_t limit,
                                           std::int64_t offset) override;
  std::int64_t count_audit_logs(const ListAuditLogsParams& params) override;

  bool try_acquire_lease(const std::string& name, const std::string& holder, TimePoint now,
                         TimePoint expires_at) override;
  void release_lease(const std::string& name, const std::string& holder) override;

  // Replicas
  void upsert_replica(const ReplicaRow& row) override;
  std::optional<ReplicaRow> get_replica_by_id(const Uuid& id) override;
  bool update_replica_heartbeat(const Uuid& id, TimePoint now, std::int64_t database_latency_us,
                                const std::string& error) override;
  void update_replica_stopped(const Uuid& id, TimePoint now) override;
  std::vector<ReplicaRow> list_alive_replicas(TimePoint updated_after) override;
  std::int64_t delete_replicas_updated_before(TimePoint before) override;
  void upsert_agent_connection(const Uuid& agent_id, const Uuid& replica_id,
                               TimePoint now) override;
  bool delete_agent_connection(const Uuid& agent_id, const Uuid& replica_id) override;
  std::optional<ReplicaRow> get_agent_connection_replica(const Uuid& agent_id,
                                                         TimePoint alive_after) override;

 private:
  ConnectionPool pool_;
};

}  // namespace berth::store::sqlite
