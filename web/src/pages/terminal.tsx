// /@{owner}/{workspace}/terminal?agent={name}: a web terminal on the agent's reconnecting PTY.
// xterm.js is loaded here only, with import(), so that other pages do not carry it. The
// session's reconnect id stays in the address (?reconnect=), so a reload reattaches to the
// same shell and sees its recent output again.
import "@xterm/xterm/css/xterm.css";
import type { Terminal } from "@xterm/xterm";
import type { FitAddon } from "@xterm/addon-fit";
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, openSocket, seg } from "../api";
import { Badge, ErrorAlert, Loading } from "../components";
import { toApiError, useLiveWorkspace } from "../hooks";
import { Link } from "../router";
import type { Workspace, WorkspaceAgent } from "../types";

type Connection = "loading" | "connecting" | "connected" | "disconnected";

const connectionText: Record<Connection, string> = {
  loading: "Loading terminal",
  connecting: "Connecting",
  connected: "Connected",
  disconnected: "Disconnected",
};

const connectionTone = { loading: "muted", connecting: "warn", connected: "ok", disconnected: "bad" } as const;

// The reconnect id from the address, or a new one written into it.
function reconnectId(): string {
  const query = new URLSearchParams(location.search);
  const existing = query.get("reconnect");
  if (existing && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(existing)) return existing;
  const id = crypto.randomUUID();
  query.set("reconnect", id);
  history.replaceState(history.state, "", `${location.pathname}?${query}`);
  return id;
}

function findAgent(workspace: Workspace, name: string | null): WorkspaceAgent | undefined {
  const agents = workspace.latest_build.resources.flatMap((r) => r.agents ?? []);
  return name ? agents.find((a) => a.name === name) : agents[0];
}

// The terminal itself: xterm.js in a box that follows the window, joined to the PTY socket.
function TerminalView({ agent }: { agent: WorkspaceAgent }) {
  const box = useRef<HTMLDivElement>(null);
  const [connection, setConnection] = useState<Connection>("loading");
  const [error, setError] = useState<ApiError | undefined>(undefined);
  // Bumped by "Reconnect" to open a new socket to the same session.
  const [attempt, setAttempt] = useState(0);
  const terminal = useRef<{ term: Terminal; fit: FitAddon } | null>(null);

  // Load xterm.js once and mount it.
  useEffect(() => {
    let disposed = false;
    let observer: ResizeObserver | undefined;
    import("./workspace/xterm").then(
      (xterm) => {
        if (disposed || !box.current) return;
        const term = new xterm.Terminal({
          cursorBlink: true,
          fontFamily: 'ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace',
          fontSize: 14,
          scrollback: 5000,
          theme: { background: "#000000" },
        });
        const fit = new xterm.FitAddon();
        term.loadAddon(fit);
        term.open(box.current);
        fit.fit();
        term.focus();
        terminal.current = { term, fit };
        observer = new ResizeObserver(() => {
          try {
            fit.fit();
          } catch {
            // The box is hidden (zero size); the next resize fits it.
          }
        });
        observer.observe(box.current);
        setConnection("connecting");
      },
      (e: unknown) => {
        if (disposed) return;
        setError(toApiError(e));
        setConnection("disconnected");
      },
    );
    return () => {
      disposed = true;
      observer?.disconnect();
      terminal.current?.term.dispose();
      terminal.current = null;
    };
  }, []);

  // Join the terminal to the agent's PTY once xterm.js is there (and again on Reconnect).
  const ready = connection !== "loading";
  useEffect(() => {
    const t = terminal.current;
    if (!ready || !t) return;
    const { term } = t;
    setConnection("connecting");
    setError(undefined);
    const id = reconnectId();
    const socket = openSocket(
      `/workspaceagents/${seg(agent.id)}/pty?reconnect=${id}&width=${term.cols}&height=${term.rows}`,
    );
    socket.binaryType = "arraybuffer";
    const send = (message: object) => {
      if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
    };
    let left = false;
    socket.onopen = () => {
      setConnection("connected");
      // The window may have changed size while the socket opened.
      send({ height: term.rows, width: term.cols });
    };
    socket.onmessage = (event) => {
      if (event.data instanceof ArrayBuffer) term.write(new Uint8Array(event.data));
      else term.write(String(event.data));
    };
    socket.onclose = (event) => {
      if (left) return;
      setConnection("disconnected");
      setError(
        new ApiError(
          0,
          "The terminal was disconnected.",
          event.reason || (event.code === 1000 ? "The shell exited." : `The connection closed (code ${event.code}).`),
          [],
        ),
      );
    };
    const input = term.onData((data) => send({ data }));
    const resize = term.onResize(({ cols, rows }) => send({ height: rows, width: cols }));
    return () => {
      left = true;
      input.dispose();
      resize.dispose();
      socket.close();
    };
  }, [ready, attempt, agent.id]);

  return (
    <>
      <div class="terminal-status actions">
        <span role="status" aria-live="polite">
          <Badge tone={connectionTone[connection]}>{connectionText[connection]}</Badge>
        </span>
        {connection === "disconnected" && terminal.current && (
          <button type="button" onClick={() => setAttempt((n) => n + 1)}>
            Reconnect
          </button>
        )}
      </div>
      <ErrorAlert error={error} />
      <div class="terminal-page" ref={box} aria-label={`Terminal of ${agent.name}`} />
    </>
  );
}

export function TerminalPage({ params }: { params: Record<string, string> }) {
  const owner = params.owner ?? "";
  const name = params.workspace ?? "";
  const agentName = new URLSearchParams(location.search).get("agent");
  // Followed live, so that the terminal opens as soon as the agent connects.
  const { workspace, loaded } = useLiveWorkspace(owner, name);
  const agent = workspace && findAgent(workspace, agentName);
  // Once open, the terminal stays: its own socket reports a lost connection.
  const [opened, setOpened] = useState<WorkspaceAgent | null>(null);
  useEffect(() => {
    if (!opened && agent?.status === "connected") setOpened(agent);
  }, [agent?.status]);
  useEffect(() => {
    document.title = `Terminal – ${name}${agent ? "." + agent.name : ""} – Berth`;
  }, [name, agent?.name]);

  let body;
  if (!workspace) body = loaded.loading ? <Loading what="workspace" /> : <ErrorAlert error={loaded.error} />;
  else if (!agent)
    body = (
      <ErrorAlert
        error={
          new ApiError(
            404,
            agentName ? `The workspace has no agent named "${agentName}".` : "The workspace has no agent.",
            `Its latest build is a ${workspace.latest_build.transition} build (${workspace.latest_build.status}).`,
            [],
          )
        }
      />
    );
  else if (opened) body = <TerminalView agent={opened} />;
  else if (agent.status !== "connected")
    body = (
      <div class="alert warn" role="status">
        <strong>The agent is {agent.status}.</strong>
        <p class="detail">The terminal opens here once the workspace is running and its agent has connected.</p>
      </div>
    );
  else body = <Loading what="terminal" />;

  return (
    <div class="terminal-wrap">
      <div class="page-header">
        <h1>
          Terminal <span class="muted">{name}{agent ? `.${agent.name}` : ""}</span>
        </h1>
        <div class="actions">
          <Link href={`/@${seg(owner)}/${seg(name)}`}>Back to workspace</Link>
        </div>
      </div>
      {body}
    </div>
  );
}
