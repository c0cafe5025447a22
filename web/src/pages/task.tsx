// One task (/tasks/:owner/:task, by name or id): its prompt, status and what its agent says it
// is doing, the conversation live, a box to send it input, and Pause / Resume / Delete.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, ApiError, seg } from "../api";
import { ActionButton, ConfirmDialog, ErrorAlert, Field, Loading, PageHeader, RelativeTime } from "../components";
import { toApiError, useAction, useLoad, useSubmit, useWorkspaceWatch } from "../hooks";
import { Link, navigate } from "../router";
import type { Task, TaskLogEntry, TaskLogsResponse, TaskStatus } from "../types";
import { TaskStateView, TaskStatusBadge, useCoalesced } from "./tasks";

export function TaskPage({ params }: { params: Record<string, string> }) {
  const path = `/tasks/${seg(params.owner ?? "")}/${seg(params.task ?? "")}`;
  const task = useLoad(() => api.get<Task>(path), [path]);
  if (!task.data)
    return (
      <>
        <PageHeader title="Task" />
        {task.error ? <ErrorAlert error={task.error} /> : <Loading what="task" />}
      </>
    );
  return <TaskView key={task.data.id} initial={task.data} />;
}

// The API answers the conversation while the agent runs (live, from its app) and while the
// workspace is down or coming up (the snapshot kept at pause); not while it stops or failed.
const conversationReadable = (status: TaskStatus) =>
  status === "active" || status === "paused" || status === "pending" || status === "initializing";

function TaskView({ initial }: { initial: Task }) {
  const apiPath = `/tasks/${seg(initial.owner_name)}/${initial.id}`;
  const [task, setTask] = useState(initial);
  const [taskError, setTaskError] = useState<ApiError>();
  const [logs, setLogs] = useState<TaskLogsResponse>();
  const [logsError, setLogsError] = useState<ApiError>();
  const [confirmDelete, setConfirmDelete] = useState(false);

  // The task, then its conversation as the task's new status allows.
  const refresh = useCoalesced(async () => {
    let current: Task;
    try {
      current = await api.get<Task>(apiPath);
      setTask(current);
      setTaskError(undefined);
    } catch (e) {
      setTaskError(toApiError(e));
      return;
    }
    if (!conversationReadable(current.status)) return;
    try {
      setLogs(await api.get<TaskLogsResponse>(`${apiPath}/logs`));
      setLogsError(undefined);
    } catch (e) {
      setLogsError(toApiError(e));
    }
  });
  useEffect(() => void refresh(), [refresh]);
  useWorkspaceWatch(task.workspace_id ?? undefined, () => void refresh());

  // The conversation grows while the agent works without the workspace changing, so the watch
  // stream says nothing about it. While the agent reports "working" it is read again, at most
  // every 2 s (one read at a time); the agent's switch to idle is a workspace event, which
  // brings the final answer.
  const working = task.status === "active" && task.current_state?.state === "working";
  useEffect(() => {
    if (!working) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout>;
    const next = () => {
      timer = setTimeout(() => void refresh().then(() => !stopped && next()), 2000);
    };
    next();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [working, refresh]);

  const { run: remove, error: actionError, setError: setActionError } = useAction(async () => {
    setConfirmDelete(false);
    await api.delete(apiPath);
    navigate("/tasks");
  });
  const act = (what: "pause" | "resume") => async () => {
    setActionError(undefined);
    await api.post(`${apiPath}/${what}`);
    await refresh();
  };

  const title = task.display_name || task.name;
  const running = task.status === "active" || task.status === "initializing";
  return (
    <>
      <PageHeader title={title}>
        {running && (
          <ActionButton action={act("pause")} onError={setActionError}>
            Pause
          </ActionButton>
        )}
        {task.status === "paused" && (
          <ActionButton class="primary" action={act("resume")} onError={setActionError}>
            Resume
          </ActionButton>
        )}
        <button type="button" class="danger" onClick={() => setConfirmDelete(true)}>
          Delete
        </button>
      </PageHeader>
      <p class="task-breadcrumb">
        <Link href="/tasks">All tasks</Link>
      </p>
      <ErrorAlert error={actionError} />
      <ErrorAlert error={taskError} />
      <TaskSummary task={task} />
      <h2>Conversation</h2>
      <Conversation logs={logs} error={logsError} status={task.status} />
      <SendInput task={task} apiPath={apiPath} onSent={refresh} />
      {confirmDelete && (
        <ConfirmDialog
          title="Delete task"
          confirmLabel="Delete"
          danger
          onConfirm={() => void remove()}
          onCancel={() => setConfirmDelete(false)}
        >
          <p>
            Delete the task <strong>{title}</strong>
            {task.workspace_name && (
              <>
                {" "}
                and its workspace <strong>{task.workspace_name}</strong>
              </>
            )}
            ? Its conversation is lost.
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}

function TaskSummary({ task }: { task: Task }) {
  return (
    <section class="card task-summary" aria-label="Task details">
      <dl class="facts">
        <dt>Status</dt>
        <dd>
          <TaskStatusBadge status={task.status} />
        </dd>
        <dt>Current state</dt>
        <dd>
          <TaskStateView state={task.current_state} />
          {task.current_state && (
            <>
              {" "}
              <span class="muted">
                (<RelativeTime at={task.current_state.timestamp} />)
              </span>
            </>
          )}
        </dd>
        <dt>Template</dt>
        <dd>{task.template_display_name || task.template_name || <span class="muted">none</span>}</dd>
        <dt>Workspace</dt>
        <dd>
          {task.workspace_name ? (
            <Link href={`/@${seg(task.owner_name)}/${seg(task.workspace_name)}`}>View workspace {task.workspace_name}</Link>
          ) : (
            <span class="muted">none yet</span>
          )}
          {task.workspace_agent_lifecycle && <span class="muted"> · agent {task.workspace_agent_lifecycle.replace(/_/g, " ")}</span>}
        </dd>
        <dt>Owner</dt>
        <dd>{task.owner_name}</dd>
        <dt>Created</dt>
        <dd>
          <RelativeTime at={task.created_at} />
        </dd>
      </dl>
      <h3>Prompt</h3>
      <pre class="task-prompt-text">{task.initial_prompt || <span class="muted">(empty)</span>}</pre>
    </section>
  );
}

function Conversation({ logs, error, status }: { logs: TaskLogsResponse | undefined; error: ApiError | undefined; status: TaskStatus }) {
  const list = useRef<HTMLOListElement>(null);
  const entries: TaskLogEntry[] = logs?.logs ?? [];
  const last = entries[entries.length - 1];
  // Follows the newest message, as a chat does.
  useEffect(() => {
    const el = list.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [entries.length, last?.content]);
  return (
    <section class="conversation-section" aria-label="Conversation">
      <ErrorAlert error={error} />
      {!conversationReadable(status) && (
        <p class="muted">The conversation can be read again once the task is active or paused.</p>
      )}
      {logs?.snapshot && (
        <p class="muted">
          Saved conversation{logs.snapshot_at && <> from <RelativeTime at={logs.snapshot_at} /></>}: the agent is not running.
        </p>
      )}
      {!logs && !error && conversationReadable(status) && <Loading what="conversation" />}
      {logs && entries.length === 0 && <p class="muted">No messages yet.</p>}
      {entries.length > 0 && (
        <ol class="conversation" ref={list} role="log" aria-live="polite">
          {entries.map((m) => (
            <li key={`${m.type}-${m.id}`} class={`message ${m.type}`}>
              <div class="message-meta">
                <strong>{m.type === "input" ? "You" : "Agent"}</strong>
                {m.time && (
                  <span class="muted">
                    {" "}
                    · <RelativeTime at={m.time} />
                  </span>
                )}
              </div>
              <pre class="message-content">{m.content}</pre>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

function SendInput({ task, apiPath, onSent }: { task: Task; apiPath: string; onSent: () => Promise<void> }) {
  const [input, setInput] = useState("");
  const working = task.current_state?.state === "working";
  const ready = task.status === "active" && !working;
  const hint =
    task.status === "paused"
      ? "Resume the task to send it input."
      : task.status !== "active"
        ? "Input can be sent once the task is active."
        : working
          ? "The agent is working; send input once it is idle."
          : "Typed into the agent as if you were at its terminal (Ctrl+Enter sends).";
  const { submit: send, busy, error } = useSubmit(async () => {
    if (!input.trim() || !ready) return;
    await api.post(`${apiPath}/send`, { input });
    setInput("");
    await onSent();
  });
  return (
    <form class="card send-form" onSubmit={send}>
      <ErrorAlert error={error} />
      <Field label="Input" id="task-input" hint={hint} error={error?.fieldDetail("input")}>
        <textarea
          id="task-input"
          value={input}
          onInput={(e) => setInput(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) void send(e);
          }}
        />
      </Field>
      <button type="submit" class="primary" disabled={busy || !ready || !input.trim()}>
        Send
      </button>
    </form>
  );
}
