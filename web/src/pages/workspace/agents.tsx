// The latest build's resources: their metadata, and each agent with its state, health, apps,
// metadata, startup logs and a way into its terminal.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, ApiError, openSocket, seg } from "../../api";
import { Badge, ErrorAlert } from "../../components";
import { toApiError } from "../../hooks";
import { Link } from "../../router";
import type {
  AgentLifecycle,
  AgentStatus,
  Workspace,
  WorkspaceAgent,
  WorkspaceAgentLog,
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

// The agent's log lines: over the `logs?follow` WebSocket (each message a JSON array of
// lines) while it runs, or one GET.
function useAgentLogs(agent: WorkspaceAgent): { logs: WorkspaceAgentLog[]; error: ApiError | undefined } {
  const [logs, setLogs] = useState<WorkspaceAgentLog[]>([]);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const follow = followsLogs(agent);
  useEffect(() => {
    setLogs([]);
    setError(undefined);
    let closed = false;
    let socket: WebSocket | undefined;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let lastId = 0;
    const path = `/workspaceagents/${seg(agent.id)}/logs`;
    const connect = () => {
      socket = openSocket(`${path}?follow&after=${lastId}`);
      socket.onmessage = (event) => {
        try {
          const lines = JSON.parse(String(event.data)) as WorkspaceAgentLog[];
          if (!Array.isArray(lines) || lines.length === 0) return;
          lastId = Math.max(lastId, ...lines.map((l) => l.id));
          setError(undefined);
          setLogs((previous) => [...previous, ...lines]);
        } catch {
          // Not a batch of lines; nothing to show.
        }
      };
      socket.onclose = () => {
        if (closed) return;
        setError(new ApiError(0, "The agent's log stream was interrupted; reconnecting…", "", []));
        retry = setTimeout(connect, 2000);
      };
    };
    if (follow) connect();
    else
      api.get<WorkspaceAgentLog[]>(path).then(
        (lines) => !closed && setLogs(lines),
        (e: unknown) => !closed && setError(toApiError(e)),
      );
    return () => {
      closed = true;
      if (retry) clearTimeout(retry);
      socket?.close();
    };
  }, [agent.id, follow]);
  return { logs, error };
}

function AgentLogs({ agent }: { agent: WorkspaceAgent }) {
  const { logs, error } = useAgentLogs(agent);
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [logs.length]);
  const sources = new Map((agent.log_sources ?? []).map((s) => [s.id, s.display_name]));
  // Consecutive lines of one source under that source's name.
  const groups: { source: string; lines: WorkspaceAgentLog[] }[] = [];
  for (const line of logs) {
    const last = groups[groups.length - 1];
    if (last && last.source === line.source_id) last.lines.push(line);
    else groups.push({ source: line.source_id, lines: [line] });
  }
  return (
    <div>
      <h4>Startup logs</h4>
      <ErrorAlert error={error} />
      <div class="logs agent-logs" ref={box} tabIndex={0} aria-label={`Startup logs of ${agent.name}`}>
        {logs.length === 0 && <p class="muted">No logs yet.</p>}
        {groups.map((g, i) => (
          <div key={`${i}-${g.source}`}>
            <div class="stage">{sources.get(g.source) ?? "Agent"}</div>
            {g.lines.map((line) => (
              <div key={line.id} class={`line ${line.level}`}>
                {line.output}
              </div>
            ))}
          </div>
        ))}
      </div>
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

// The agent's metadata blocks. Berth stores the values agents report but serves neither
// Coder's watch-metadata stream nor the values in the agent's JSON, so only what each item
// measures and how often can be shown.
function AgentMetadata({ agent }: { agent: WorkspaceAgent }) {
  const items = agent.metadata ?? [];
  if (items.length === 0) return null;
  return (
    <dl class="metadata">
      {items.map((m) => (
        <div key={m.key}>
          <dt>{m.display_name || m.key}</dt>
          <dd title={m.script}>
            <span class="muted">every {m.interval}s</span>
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
