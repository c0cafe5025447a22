// The API's shapes, as far as the dashboard reads them (Coder's codersdk names and fields).

export interface Role {
  name: string;
  display_name: string;
}

export type UserStatus = "active" | "suspended" | "dormant";

export interface User {
  id: string;
  username: string;
  name: string;
  email: string;
  avatar_url: string;
  status: UserStatus;
  roles: Role[];
  organization_ids: string[];
  created_at: string;
  last_seen_at: string;
  login_type: string;
}

export type WorkspaceStatus =
  | "pending"
  | "starting"
  | "running"
  | "stopping"
  | "stopped"
  | "failed"
  | "canceling"
  | "canceled"
  | "deleting"
  | "deleted";

export type WorkspaceTransition = "start" | "stop" | "delete";

export type JobStatus = "pending" | "running" | "succeeded" | "canceling" | "canceled" | "failed";

export interface ProvisionerJob {
  id: string;
  created_at: string;
  started_at?: string;
  completed_at?: string;
  status: JobStatus;
  error?: string;
  error_code?: string;
  queue_position: number;
  queue_size: number;
}

export interface ProvisionerJobLog {
  id: number;
  created_at: string;
  log_source: string;
  log_level: "trace" | "debug" | "info" | "warn" | "error";
  stage: string;
  output: string;
}

export interface WorkspaceApp {
  id: string;
  url?: string;
  external: boolean;
  slug: string;
  display_name: string;
  icon?: string;
  subdomain: boolean;
  sharing_level: string;
  health: "disabled" | "initializing" | "healthy" | "unhealthy";
  hidden: boolean;
  open_in?: string;
}

export type AgentStatus = "connecting" | "connected" | "disconnected" | "timeout";
export type AgentLifecycle =
  | "created"
  | "starting"
  | "start_timeout"
  | "start_error"
  | "ready"
  | "shutting_down"
  | "shutdown_timeout"
  | "shutdown_error"
  | "off";

export interface WorkspaceAgent {
  id: string;
  name: string;
  status: AgentStatus;
  lifecycle_state: AgentLifecycle;
  health: { healthy: boolean; reason?: string };
  apps: WorkspaceApp[];
  operating_system: string;
  architecture: string;
  directory?: string;
  expanded_directory?: string;
  version: string;
  logs_length: number;
  logs_overflowed: boolean;
  started_at?: string;
  ready_at?: string;
  first_connected_at?: string;
  last_connected_at?: string;
  log_sources?: WorkspaceAgentLogSource[];
  display_apps?: string[];
}

export interface AgentMetadataDescription {
  key: string;
  display_name: string;
  script: string;
  interval: number; // seconds
  timeout: number; // seconds
}

// codersdk.WorkspaceAgentMetadata: one metadata block of the template and what the agent last
// reported for it (GET /workspaceagents/{id}/watch-metadata-ws).
export interface WorkspaceAgentMetadata {
  description: AgentMetadataDescription;
  result: {
    collected_at: string;
    age: number; // seconds since collected_at, by the server's clock
    value: string;
    error: string;
  };
}

export interface WorkspaceAgentLogSource {
  id: string;
  display_name: string;
  icon: string;
}

export interface WorkspaceAgentLog {
  id: number;
  created_at: string;
  output: string;
  level: "trace" | "debug" | "info" | "warn" | "error";
  source_id: string;
}

export interface WorkspaceResourceMetadata {
  key: string;
  value: string;
  sensitive: boolean;
}

export interface WorkspaceResource {
  id: string;
  job_id: string;
  workspace_transition: WorkspaceTransition;
  type: string;
  name: string;
  hide: boolean;
  icon: string;
  agents?: WorkspaceAgent[];
  metadata?: WorkspaceResourceMetadata[];
}

export interface WorkspaceBuild {
  id: string;
  created_at: string;
  updated_at: string;
  workspace_id: string;
  workspace_name: string;
  workspace_owner_name: string;
  template_version_id: string;
  template_version_name: string;
  build_number: number;
  transition: WorkspaceTransition;
  initiator_name: string;
  job: ProvisionerJob;
  reason: string;
  resources: WorkspaceResource[];
  deadline?: string;
  max_deadline?: string;
  status: WorkspaceStatus;
  has_ai_task?: boolean;
}

export interface Workspace {
  id: string;
  created_at: string;
  updated_at: string;
  owner_id: string;
  owner_name: string;
  organization_id: string;
  template_id: string;
  template_name: string;
  template_display_name: string;
  template_icon: string;
  template_active_version_id?: string;
  template_allow_user_cancel_workspace_jobs?: boolean;
  latest_build: WorkspaceBuild;
  outdated: boolean;
  name: string;
  autostart_schedule?: string;
  ttl_ms?: number;
  last_used_at: string;
  deleting_at?: string;
  dormant_at?: string;
  health: { healthy: boolean; failing_agents: string[] };
  automatic_updates: "always" | "never";
  allow_renames: boolean;
  favorite: boolean;
  next_start_at?: string;
}

export interface WorkspacesResponse {
  workspaces: Workspace[];
  count: number;
}

export interface Template {
  id: string;
  created_at: string;
  updated_at: string;
  organization_id: string;
  name: string;
  display_name: string;
  description: string;
  icon: string;
  active_version_id: string;
  active_user_count: number;
  default_ttl_ms: number;
  deprecated: boolean;
  deprecation_message: string;
  created_by_name: string;
}

export interface TemplateVersion {
  id: string;
  template_id?: string;
  organization_id: string;
  created_at: string;
  updated_at: string;
  name: string;
  message: string;
  job: ProvisionerJob;
  readme: string;
  created_by: { id: string; username: string };
  archived: boolean;
}

export interface ParameterOption {
  name: string;
  description: string;
  value: string;
  icon: string;
}

export interface TemplateVersionParameter {
  name: string;
  display_name?: string;
  description: string;
  description_plaintext?: string;
  type: "string" | "number" | "bool" | "list(string)";
  form_type?: string;
  mutable: boolean;
  default_value: string;
  icon: string;
  options: ParameterOption[];
  validation_error?: string;
  validation_regex?: string;
  validation_min?: number | null;
  validation_max?: number | null;
  validation_monotonic?: "increasing" | "decreasing" | "";
  required: boolean;
  ephemeral: boolean;
  order?: number;
}

// GET /templateversions/{id}/presets: lowercase keys, as the seeds (codersdk.Preset) and Berth have them.
export interface PresetParameter {
  name: string;
  value: string;
}

export interface Preset {
  id: string;
  name: string;
  parameters: PresetParameter[] | null;
  default?: boolean;
  description?: string;
  icon?: string;
}

export interface WorkspaceBuildParameter {
  name: string;
  value: string;
}

export type TaskStatus = "pending" | "initializing" | "active" | "paused" | "unknown" | "error";

export interface TaskState {
  timestamp: string;
  // "failure" as agents report it (PATCH /workspaceagents/me/app-status); "failed" in Coder's TaskState.
  state: "working" | "idle" | "complete" | "failure" | "failed";
  message: string;
  uri: string;
}

export interface Task {
  id: string;
  organization_id: string;
  owner_id: string;
  owner_name: string;
  name: string;
  display_name: string;
  template_id: string;
  template_name: string;
  template_display_name: string;
  template_version_id: string;
  initial_prompt: string;
  created_at: string;
  updated_at: string;
  status: TaskStatus;
  workspace_id: string | null;
  workspace_name: string;
  workspace_agent_id: string | null;
  workspace_agent_lifecycle: AgentLifecycle | null;
  current_state: TaskState | null;
  // The status of the build the task runs on, when it has one.
  workspace_status?: WorkspaceStatus;
  workspace_build_number?: number;
}

export interface TaskLogEntry {
  id: number;
  content: string;
  type: "input" | "output";
  time: string | null;
}

export interface TaskLogsResponse {
  logs: TaskLogEntry[];
  // True when the conversation comes from the snapshot kept while the task is not active.
  snapshot: boolean;
  snapshot_at?: string;
}

export interface TasksResponse {
  tasks: Task[];
  count: number;
}

export interface APIKey {
  id: string;
  user_id: string;
  last_used: string;
  expires_at: string;
  created_at: string;
  updated_at: string;
  login_type: string;
  scope: string;
  token_name: string;
  lifetime_seconds: number;
}

export interface UsersResponse {
  users: User[];
  count: number;
}

// GET/PUT /users/{user}/quiet-hours (one object, whatever swagger says).
export interface QuietHoursSchedule {
  raw_schedule: string;
  user_set: boolean;
  user_can_set: boolean;
  time: string;
  timezone: string;
  next: string | null;
}

export interface TokenConfig {
  max_token_lifetime: number; // nanoseconds
}
