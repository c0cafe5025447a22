// The latest build's resources: their metadata, and each agent with its state, health, apps,
// metadata, startup logs and a way into its terminal.
import { useState } from "preact/hooks";
import { seg } from "../../api";
import { Badge, ErrorAlert } from "../../components";
import { useWatch } from "../../hooks";
import { LogView, useLogStream } from "../../logs";
import { Link } from "../../router";
import type {
  AgentLifecycle,
  AgentStatus,
  Workspace,
  WorkspaceAgent,
  WorkspaceAgentLog,
  WorkspaceAgentMetadata,
  WorkspaceApp,
  WorkspaceResource,
} from "../../types";

type Tone = "ok" | "warn" | "bad" | "muted";

const statusTone: Record<AgentStatus, Tone> = {
  connecting: "warn",
  connected: "ok",
  disconnected: "bad",
  timeout: "bad",
};

const statusText: Record<AgentStatus, string> = {
  connecting: "Connecting",
  connected: "Connected",
  disconnected: "Disconnected",
  timeout: "Timed out",
};

const lifecycleText: Record<AgentLifecycle, string> = {
  created: "Created",
  starting: "Starting",
  start_timeout: "Start timeout",
  start_error: "Start error",
  ready: "Ready",
  shutting_down: "Shutting down",
  shutdown_timeout: "Shutdown timeout",
  shutdown_error: "Shutdown error",
  off: "Off",
};

function lifecycleTone(state: AgentLifecycle): Tone {
  if (state === "ready") return "ok";
  if (state === "created" || state === "starting" || state === "shutting_down") return "warn";
  if (state === "off") return "muted";
  return "bad";
}

// While an agent may still write startup lines, its logs are followed; afterwards read once.
function followsLogs(agent: WorkspaceAgent): boolean {
  return agent.lifecycle_state !== "off" && agent.status !== "disconnected" && agent.status !== "timeout";
}

// The agent's log lines under the name of the script (log source) that wrote them.
function AgentLogs({ agent }: { agent: WorkspaceAgent }) {
  const follow = followsLogs(agent);
  const { logs, error } = useLogStream<WorkspaceAgentLog>({
    path: `/workspaceagents/${seg(agent.id)}/logs`,
    follow,
    followQuery: "follow",
    resume: () => true,
    interrupted: "The agent's log stream was interrupted; reconnecting…",
  });
  const sources = new Map((agent.log_sources ?? []).map((s) => [s.id, s.display_name]));
  return (
    <div>
      <h4>Startup logs</h4>
      <ErrorAlert error={error} />
      <LogView
        class="agent-logs"
        lines={logs}
        label={`Startup logs of ${agent.name}`}
        live={follow}
        empty="No logs yet."
        group={(line) => line.source_id}
        heading={(source) => sources.get(source) ?? "Agent"}
        level={(line) => line.level}
      />
    </div>
  );
}

// Where an app opens: its own URL for an external app, else the path-based app proxy.
function appHref(workspace: Workspace, agent: WorkspaceAgent, app: WorkspaceApp): string {
  if (app.external && app.url) return app.url;
  return `/@${seg(workspace.owner_name)}/${seg(workspace.name)}.${seg(agent.name)}/apps/${seg(app.slug)}/`;
}

const appHealthTone: Record<WorkspaceApp["health"], Tone> = {
  disabled: "muted",
  initializing: "warn",
  healthy: "ok",
  unhealthy: "bad",
};

function AgentApps({ workspace, agent }: { workspace: Workspace; agent: WorkspaceAgent }) {
  const apps = agent.apps.filter((a) => !a.hidden);
  const terminal = !agent.display_apps || agent.display_apps.includes("web_terminal");
  const terminalHref =
    `/@${seg(workspace.owner_name)}/${seg(workspace.name)}/terminal?agent=` + encodeURIComponent(agent.name);
  return (
    <div class="agent-apps actions">
      {terminal && (
        <Link class="button" href={terminalHref}>
          Terminal
        </Link>
      )}
      {apps.map((app) => (
        <span class="app-link" key={app.id}>
          <a class="button" href={appHref(workspace, agent, app)} target="_blank" rel="noopener noreferrer">
            {app.display_name || app.slug}
          </a>
          {app.health !== "disabled" && <Badge tone={appHealthTone[app.health]}>{app.health}</Badge>}
        </span>
      ))}
    </div>
  );
}

// After this long without a new result an item's value is old news (Coder's dashboard rule).
function isStale(m: WorkspaceAgentMetadata): boolean {
  return m.result.age > Math.max(m.description.interval + m.description.timeout * 2, 5);
}

function MetadataValue({ item }: { item: WorkspaceAgentMetadata }) {
  const { result } = item;
  if (result.error) return <span class="tone-bad">{result.error}</span>;
  if (new Date(result.collected_at).getFullYear() < 2000) return <span class="muted">Not collected yet</span>;
  return <span class={isStale(item) ? "muted" : undefined}>{result.value.trim() || "(empty)"}</span>;
}

// The template's metadata blocks with what the agent last measured, kept current by the
// agent's metadata watch stream.
function AgentMetadata({ agent }: { agent: WorkspaceAgent }) {
  const [items, setItems] = useState<WorkspaceAgentMetadata[]>([]);
  useWatch(`/workspaceagents/${seg(agent.id)}/watch-metadata-ws`, setItems);
  if (items.length === 0) return null;
  return (
    <dl class="metadata agent-metadata" aria-label={`Metadata of ${agent.name}`}>
      {items.map((m) => (
        <div key={m.description.key}>
          <dt>{m.description.display_name || m.description.key}</dt>
          <dd title={`${m.description.script} (every ${m.description.interval}s)`}>
            <MetadataValue item={m} />
          </dd>
        </div>
      ))}
    </dl>
  );
}

function AgentCard({ workspace, agent }: { workspace: Workspace; agent: WorkspaceAgent }) {
  const unhealthy = agent.health && !agent.health.healthy && agent.health.reason;
  return (
    <article class="card agent" aria-labelledby={`agent-${agent.id}`}>
      <div class="agent-head">
        <h3 id={`agent-${agent.id}`}>{agent.name}</h3>
        <Badge tone={statusTone[agent.status] ?? "muted"}>{statusText[agent.status] ?? agent.status}</Badge>
        <Badge tone={lifecycleTone(agent.lifecycle_state)}>
          {lifecycleText[agent.lifecycle_state] ?? agent.lifecycle_state}
        </Badge>
        <span class="muted agent-os">
          {agent.operating_system}/{agent.architecture}
          {agent.version && ` · agent ${agent.version}`}
        </span>
      </div>
      {unhealthy && <p class="agent-health tone-bad">{agent.health.reason}</p>}
      <AgentApps workspace={workspace} agent={agent} />
      <AgentMetadata agent={agent} />
      <AgentLogs agent={agent} />
    </article>
  );
}

function ResourceCard({ workspace, resource }: { workspace: Workspace; resource: WorkspaceResource }) {
  const metadata = resource.metadata ?? [];
  return (
    <section class="resource" aria-label={`${resource.type} ${resource.name}`}>
      <div class="resource-head">
        <strong>{resource.name}</strong> <span class="muted">{resource.type}</span>
      </div>
      {metadata.length > 0 && (
        <dl class="metadata">
          {metadata.map((m) => (
            <div key={m.key}>
              <dt>{m.key}</dt>
              <dd>{m.sensitive ? "••••••" : m.value}</dd>
            </div>
          ))}
        </dl>
      )}
      {(resource.agents ?? []).map((agent) => (
        <AgentCard key={agent.id} workspace={workspace} agent={agent} />
      ))}
    </section>
  );
}

export function Resources({ workspace }: { workspace: Workspace }) {
  const resources = workspace.latest_build.resources.filter((r) => !r.hide);
  return (
    <section aria-labelledby="resources-title">
      <h2 id="resources-title">Resources</h2>
      {resources.length === 0 && <p class="muted">This build has no resources.</p>}
      {resources.map((r) => (
        <ResourceCard key={r.id} workspace={workspace} resource={r} />
      ))}
    </section>
  );
}
