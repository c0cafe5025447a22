// The home page: the workspaces a search names (Coder's `q=` grammar, `owner:me` by default),
// each row kept current by its own watch stream, Start/Stop on the row, and a template picker
// that leads to the create form.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, ApiError, seg } from "../api";
import { ActionButton, Badge, ErrorAlert, Loading, PageHeader, RelativeTime, StatusBadge } from "../components";
import { useLoad, useWorkspaceWatch } from "../hooks";
import { Link, navigate, useLocation } from "../router";
import { useSession } from "../session";
import type { Template, Workspace, WorkspaceBuild, WorkspacesResponse, WorkspaceStatus } from "../types";

const pageSize = 25;
const defaultFilter = "owner:me";

// Which build a row offers: Stop while it runs, Start once it has come to rest otherwise.
const canStop: WorkspaceStatus[] = ["running"];
const canStart: WorkspaceStatus[] = ["stopped", "failed", "canceled"];

function listUrl(filter: string, page: number): string {
  const query = new URLSearchParams();
  if (filter !== defaultFilter) query.set("filter", filter);
  if (page > 1) query.set("page", String(page));
  const text = query.toString();
  return "/workspaces" + (text ? "?" + text : "");
}

export function WorkspacesPage(_props: { params: Record<string, string> }) {
  const { query } = useLocation();
  const filter = query.get("filter") ?? defaultFilter;
  const page = Math.max(1, Math.floor(Number(query.get("page"))) || 1);
  const list = useLoad(
    () =>
      api.get<WorkspacesResponse>(
        `/workspaces?q=${encodeURIComponent(filter)}&limit=${pageSize}&offset=${(page - 1) * pageSize}`,
      ),
    [filter, page],
  );
  const [actionError, setActionError] = useState<{ title: string; error: ApiError } | null>(null);
  const [picking, setPicking] = useState(false);

  return (
    <>
      <PageHeader title="Workspaces">
        <button type="button" class="primary" onClick={() => setPicking(true)}>
          Create workspace
        </button>
      </PageHeader>
      <SearchBox
        filter={filter}
        onSearch={(next) => {
          // The same search again means "look again"; a new one is a new address.
          if (next === filter && page === 1) list.reload();
          else navigate(listUrl(next, 1));
        }}
      />
      {actionError && (
        <div class="action-error">
          <p>{actionError.title}</p>
          <ErrorAlert error={actionError.error} />
        </div>
      )}
      {list.error && <ErrorAlert error={list.error} />}
      {!list.data && !list.error && <Loading what="workspaces" />}
      {list.data && list.data.workspaces.length === 0 && (
        <EmptyState searching={filter !== defaultFilter} onCreate={() => setPicking(true)} />
      )}
      {list.data && list.data.workspaces.length > 0 && (
        <>
          <WorkspaceTable
            workspaces={list.data.workspaces}
            onActionError={(title, error) => setActionError(error ? { title, error } : null)}
          />
          <Pager page={page} count={list.data.count} shown={list.data.workspaces.length} filter={filter} />
        </>
      )}
      {picking && <TemplatePicker onClose={() => setPicking(false)} />}
    </>
  );
}

function SearchBox({ filter, onSearch }: { filter: string; onSearch: (filter: string) => void }) {
  const [draft, setDraft] = useState(filter);
  // Back/forward or a link changes the search under the box: show what is searched.
  useEffect(() => setDraft(filter), [filter]);
  return (
    <form
      class="search-box"
      role="search"
      onSubmit={(e) => {
        e.preventDefault();
        onSearch(draft.trim());
      }}
    >
      <label for="workspace-search" class="visually-hidden">
        Search workspaces
      </label>
      <input
        id="workspace-search"
        type="search"
        value={draft}
        placeholder="owner:me status:running"
        aria-describedby="workspace-search-hint"
        onInput={(e) => setDraft(e.currentTarget.value)}
      />
      <button type="submit">Search</button>
      <p id="workspace-search-hint" class="hint">
        Filters such as <code>owner:me</code>, <code>status:running</code>, <code>template:docker</code>,{" "}
        <code>outdated:true</code>, or part of a name. Empty shows every workspace you can see.
      </p>
    </form>
  );
}

function EmptyState({ searching, onCreate }: { searching: boolean; onCreate: () => void }) {
  if (searching)
    return (
      <div class="card empty-state">
        <h2>No workspaces match this search</h2>
        <p class="muted">
          Try a wider search, or <Link href="/workspaces">show your own workspaces</Link>.
        </p>
      </div>
    );
  return (
    <div class="card empty-state">
      <h2>Create a workspace</h2>
      <p class="muted">
        A workspace is your personal, customizable development environment. Pick a template to start one.
      </p>
      <button type="button" class="primary" onClick={onCreate}>
        Create workspace
      </button>
    </div>
  );
}

function WorkspaceTable(props: {
  workspaces: Workspace[];
  onActionError: (title: string, error: ApiError | null) => void;
}) {
  return (
    <div class="table-wrap">
      <table class="workspace-table">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col" class="hide-narrow">
              Template
            </th>
            <th scope="col">Status</th>
            <th scope="col" class="hide-narrow">
              Last used
            </th>
            <th scope="col">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {props.workspaces.map((w) => (
            <WorkspaceRow key={w.id} workspace={w} onActionError={props.onActionError} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

// One row: starts from the list's copy, then follows the workspace's watch stream.
function WorkspaceRow(props: { workspace: Workspace; onActionError: (title: string, error: ApiError | null) => void }) {
  const session = useSession();
  const [w, setW] = useState(props.workspace);
  // A reloaded list brings a fresh copy.
  useEffect(() => setW(props.workspace), [props.workspace]);
  useWorkspaceWatch(props.workspace.id, setW);

  const status = w.latest_build.status;
  const build = async (transition: "start" | "stop") => {
    props.onActionError("", null);
    const started = await api.post<WorkspaceBuild>(`/workspaces/${w.id}/builds`, { transition });
    // Show the new build at once; the watch stream carries it from here.
    setW((current) => (current.latest_build.build_number < started.build_number ? { ...current, latest_build: started } : current));
  };
  const verb = canStop.includes(status) ? "Stop" : canStart.includes(status) ? "Start" : null;
  const mine = w.owner_id === session.user.id;
  return (
    <tr data-workspace={w.name}>
      <td>
        <div class="workspace-name">
          {w.favorite && (
            <span class="favorite-mark" title="Favorite" role="img" aria-label="Favorite">
              ★
            </span>
          )}
          <Link href={`/@${seg(w.owner_name)}/${seg(w.name)}`}>{w.name}</Link>
        </div>
        {!mine && <div class="muted small">{w.owner_name}</div>}
      </td>
      <td class="hide-narrow">{w.template_display_name || w.template_name}</td>
      <td>
        <div class="status-cell">
          <StatusBadge status={status} />
          {w.outdated && (
            <span title="A newer template version is available">
              <Badge tone="warn">Outdated</Badge>
            </span>
          )}
        </div>
      </td>
      <td class="hide-narrow">
        <RelativeTime at={w.last_used_at} />
      </td>
      <td class="row-actions">
        {verb && (
          <ActionButton
            action={() => build(verb === "Stop" ? "stop" : "start")}
            onError={(e) => props.onActionError(`Could not ${verb.toLowerCase()} ${w.name}.`, e)}
            aria-label={`${verb} ${w.name}`}
          >
            {verb}
          </ActionButton>
        )}
      </td>
    </tr>
  );
}

function Pager({ page, count, shown, filter }: { page: number; count: number; shown: number; filter: string }) {
  const first = (page - 1) * pageSize + 1;
  const last = first + shown - 1;
  const pages = Math.max(1, Math.ceil(count / pageSize));
  return (
    <nav class="pager" aria-label="Pages">
      <button type="button" disabled={page <= 1} onClick={() => navigate(listUrl(filter, page - 1))}>
        Previous
      </button>
      <span class="muted">
        Showing {first}–{last} of {count} workspace{count === 1 ? "" : "s"}
      </span>
      <button type="button" disabled={page >= pages} onClick={() => navigate(listUrl(filter, page + 1))}>
        Next
      </button>
    </nav>
  );
}

// "Create workspace": the templates this user can see, each leading to its create form.
function TemplatePicker({ onClose }: { onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const templates = useLoad(() => api.get<Template[]>("/templates"), []);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
  }, []);
  return (
    <dialog ref={ref} class="template-picker" aria-labelledby="template-picker-title" onCancel={onClose}>
      <h2 id="template-picker-title">Choose a template</h2>
      {templates.error && <ErrorAlert error={templates.error} />}
      {!templates.data && !templates.error && <Loading what="templates" />}
      {templates.data && templates.data.length === 0 && (
        <p class="muted">
          No templates yet. Push one with <code>berth templates push</code>; see{" "}
          <Link href="/templates">Templates</Link>.
        </p>
      )}
      {templates.data && templates.data.length > 0 && (
        <ul class="template-list">
          {templates.data.map((t) => (
            <li key={t.id}>
              <Link href={`/templates/${seg(t.name)}/workspace`}>{t.display_name || t.name}</Link>
              {t.deprecated && <Badge tone="warn">Deprecated</Badge>}
              {t.description && <p class="muted small">{t.description}</p>}
            </li>
          ))}
        </ul>
      )}
      <div class="actions">
        <button type="button" onClick={onClose}>
          Cancel
        </button>
      </div>
    </dialog>
  );
}
