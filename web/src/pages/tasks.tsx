// Tasks (/tasks): every task the user may see, with its status and what its agent is doing,
// kept live by watching each task's workspace; and the prompt box that starts a new one.
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { api, ApiError, seg } from "../api";
import { Badge, ErrorAlert, Field, Loading, PageHeader, RelativeTime } from "../components";
import { toApiError, useLoad, useSubmit, useWorkspaceWatch } from "../hooks";
import { Link, navigate, useLocation } from "../router";
import type { Preset, Task, TaskState, TaskStatus, TasksResponse, Template } from "../types";

// The dashboard's page for a task, and the API's path for it (by id: names are only unique
// per owner, ids everywhere).
export const taskPath = (task: Pick<Task, "owner_name" | "name">) => `/tasks/${seg(task.owner_name)}/${seg(task.name)}`;
export const taskApiPath = (task: Pick<Task, "owner_name" | "id">) => `/tasks/${seg(task.owner_name)}/${task.id}`;

type Tone = "ok" | "warn" | "bad" | "muted";

const statusLook: Record<TaskStatus, [string, Tone]> = {
  pending: ["Pending", "warn"],
  initializing: ["Initializing", "warn"],
  active: ["Active", "ok"],
  paused: ["Paused", "muted"],
  unknown: ["Unknown", "muted"],
  error: ["Error", "bad"],
};

export function TaskStatusBadge({ status }: { status: TaskStatus }) {
  const [text, tone] = statusLook[status] ?? [status, "muted"];
  return <Badge tone={tone}>{text}</Badge>;
}

const stateLook: Record<TaskState["state"], [string, Tone]> = {
  working: ["Working", "warn"],
  idle: ["Idle", "ok"],
  complete: ["Complete", "ok"],
  failure: ["Failed", "bad"],
  failed: ["Failed", "bad"],
};

// What the agent last said it is doing: its state and the app's status message.
export function TaskStateView({ state }: { state: TaskState | null }) {
  if (!state) return <span class="muted">No state reported</span>;
  const [text, tone] = stateLook[state.state] ?? [state.state, "muted"];
  return (
    <span class="task-state">
      <Badge tone={tone}>{text}</Badge>
      {state.message && <span class="task-state-message">{state.message}</span>}
    </span>
  );
}

// Runs `load`, never two at once: calls made while it runs fold into one more run after it, so
// a burst of change notifications costs at most two requests. The promise settles once a run
// that started after the call has finished.
export function useCoalesced(load: () => Promise<void>): () => Promise<void> {
  const latest = useRef(load);
  latest.current = load;
  const state = useRef<{ running: Promise<void> | null; queued: Promise<void> | null }>({ running: null, queued: null });
  const run = useCallback((): Promise<void> => {
    const s = state.current;
    if (!s.running) {
      s.running = latest.current()
        .catch(() => undefined)
        .finally(() => {
          s.running = null;
        });
      return s.running;
    }
    if (!s.queued)
      s.queued = s.running.then(() => {
        s.queued = null;
        return run();
      });
    return s.queued;
  }, []);
  return run;
}

export function TasksPage(_props: { params: Record<string, string> }) {
  const { query } = useLocation();
  const q = query.get("q") ?? "";
  return (
    <>
      <PageHeader title="Tasks" />
      <CreateTaskForm />
      <h2>Your tasks</h2>
      <TaskSearch q={q} />
      <TaskList q={q} />
    </>
  );
}

// Templates that can run a task: those whose active version has a coder_ai_task.
const aiTemplatesPath = "/templates?q=" + encodeURIComponent("has-ai-task:true");

function CreateTaskForm() {
  const templates = useLoad(() => api.get<Template[]>(aiTemplatesPath), []);
  const [templateId, setTemplateId] = useState("");
  const [presetId, setPresetId] = useState("");
  const [prompt, setPrompt] = useState("");
  const [name, setName] = useState("");
  const choices = templates.data ?? [];
  const template = choices.find((t) => t.id === templateId) ?? choices[0];
  const versionId = template?.active_version_id;
  const presets = useLoad(
    async () => (versionId ? ((await api.get<Preset[] | null>(`/templateversions/${versionId}/presets`)) ?? []) : []),
    [versionId],
  );
  // The version's default preset is chosen for the user, as Coder's form does.
  useEffect(() => setPresetId(presets.data?.find((p) => p.default)?.id ?? ""), [presets.data]);

  const { submit, busy, error } = useSubmit(async () => {
    if (!versionId) return;
    const task = await api.post<Task>("/tasks/me", {
      input: prompt,
      template_version_id: versionId,
      template_version_preset_id: presetId || undefined,
      name: name.trim() || undefined,
    });
    navigate(taskPath(task));
  });

  if (templates.error) return <ErrorAlert error={templates.error} />;
  if (!templates.data) return <Loading what="templates" />;
  if (choices.length === 0)
    return (
      <p class="card muted">
        No template can run tasks yet: a task needs a template with a <code>coder_ai_task</code> resource (see{" "}
        <Link href="/templates">Templates</Link> for how to push one).
      </p>
    );
  const presetList = presets.data ?? [];
  return (
    <form class="card task-form" onSubmit={submit}>
      <ErrorAlert error={error} />
      <Field label="Prompt" id="task-prompt" error={error?.fieldDetail("input")} hint="What the AI agent should do.">
        <textarea
          id="task-prompt"
          required
          value={prompt}
          onInput={(e) => setPrompt(e.currentTarget.value)}
          placeholder="Fix the failing test in …"
        />
      </Field>
      <div class="task-form-row">
        <Field label="Template" id="task-template" error={error?.fieldDetail("template_version_id")}>
          <select id="task-template" value={template?.id} onChange={(e) => setTemplateId(e.currentTarget.value)}>
            {choices.map((t) => (
              <option key={t.id} value={t.id}>
                {t.display_name || t.name}
              </option>
            ))}
          </select>
        </Field>
        {presetList.length > 0 && (
          <Field label="Preset" id="task-preset" error={error?.fieldDetail("template_version_preset_id")}>
            <select id="task-preset" value={presetId} onChange={(e) => setPresetId(e.currentTarget.value)}>
              <option value="">None</option>
              {presetList.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
            </select>
          </Field>
        )}
        <Field label="Name (optional)" id="task-name" error={error?.fieldDetail("name")}>
          <input id="task-name" value={name} onInput={(e) => setName(e.currentTarget.value)} placeholder="made from the prompt" />
        </Field>
      </div>
      <ErrorAlert error={presets.error} />
      <button type="submit" class="primary" disabled={busy || !versionId}>
        Create task
      </button>
    </form>
  );
}

// The `q=` filter of GET /tasks (owner:me, status:active, ...), kept in the page's address.
function TaskSearch({ q }: { q: string }) {
  const [text, setText] = useState(q);
  useEffect(() => setText(q), [q]);
  const submit = (e: Event) => {
    e.preventDefault();
    const value = text.trim();
    navigate(value ? `/tasks?q=${encodeURIComponent(value)}` : "/tasks");
  };
  return (
    <form class="search" role="search" onSubmit={submit}>
      <label for="task-search" class="visually-hidden">
        Search tasks
      </label>
      <input
        id="task-search"
        type="search"
        value={text}
        onInput={(e) => setText(e.currentTarget.value)}
        placeholder="Search tasks (e.g. owner:me status:active)"
      />
      <button type="submit">Search</button>
    </form>
  );
}

function TaskList({ q }: { q: string }) {
  const loaded = useLoad(() => api.get<TasksResponse>("/tasks" + (q ? `?q=${encodeURIComponent(q)}` : "")), [q]);
  // The rows change one by one as their workspaces do, so the list keeps its own copy.
  const [tasks, setTasks] = useState<Task[]>([]);
  useEffect(() => {
    if (loaded.data) setTasks(loaded.data.tasks ?? []);
  }, [loaded.data]);
  const replace = useCallback((task: Task) => setTasks((list) => list.map((t) => (t.id === task.id ? task : t))), []);
  const remove = useCallback((id: string) => setTasks((list) => list.filter((t) => t.id !== id)), []);

  if (loaded.error) return <ErrorAlert error={loaded.error} />;
  if (!loaded.data) return <Loading what="tasks" />;
  if (tasks.length === 0) return <p class="muted">{q ? "No task matches this search." : "No tasks yet: write a prompt above to start one."}</p>;
  return (
    <div class="table-wrap">
      <table class="tasks-table">
        <thead>
          <tr>
            <th>Task</th>
            <th>Status</th>
            <th>State</th>
            <th class="hide-narrow">Template</th>
            <th class="hide-narrow">Created</th>
          </tr>
        </thead>
        <tbody>
          {tasks.map((t) => (
            <TaskRow key={t.id} task={t} onChange={replace} onGone={remove} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

// One task, read again whenever its workspace changes (builds, agent, the app's status).
function TaskRow({ task, onChange, onGone }: { task: Task; onChange: (t: Task) => void; onGone: (id: string) => void }) {
  const [error, setError] = useState<ApiError>();
  const path = taskApiPath(task);
  const reload = useCoalesced(async () => {
    try {
      onChange(await api.get<Task>(path));
      setError(undefined);
    } catch (e) {
      const err = toApiError(e);
      if (err.status === 404) onGone(task.id);
      else setError(err);
    }
  });
  useWorkspaceWatch(task.workspace_id ?? undefined, () => void reload());
  return (
    <tr>
      <td class="task-cell">
        <Link href={taskPath(task)}>{task.display_name || task.name}</Link>
        <span class="task-prompt muted" title={task.initial_prompt}>
          {task.initial_prompt}
        </span>
        <ErrorAlert error={error} />
      </td>
      <td>
        <TaskStatusBadge status={task.status} />
      </td>
      <td>
        <TaskStateView state={task.current_state} />
      </td>
      <td class="hide-narrow">{task.template_display_name || task.template_name}</td>
      <td class="hide-narrow">
        <RelativeTime at={task.created_at} />
      </td>
    </tr>
  );
}
