// The server's users, for owners: search, create, suspend and activate, and site roles.
import { useState } from "preact/hooks";
import { api } from "../api";
import { Badge, ConfirmDialog, ErrorAlert, ErrorRow, Loading, PageHeader, RelativeTime } from "../components";
import { useAction, useLoad, useSubmit } from "../hooks";
import { useSession } from "../session";
import type { User, UsersResponse, UserStatus } from "../types";
import { emptyUser, NewUserFields } from "./setup";

const pageSize = 25;

// The site-wide roles an owner hands out (every user is also a "member").
const siteRoles: { name: string; label: string }[] = [
  { name: "owner", label: "Owner" },
  { name: "user-admin", label: "User Admin" },
  { name: "template-admin", label: "Template Admin" },
  { name: "auditor", label: "Auditor" },
];

const statusTone: Record<UserStatus, "ok" | "bad" | "muted"> = { active: "ok", suspended: "bad", dormant: "muted" };
const statusText: Record<UserStatus, string> = { active: "Active", suspended: "Suspended", dormant: "Dormant" };

function CreateUserForm({ onCreated, onCancel }: { onCreated: (u: User) => void; onCancel: () => void }) {
  const session = useSession();
  const [newUser, setNewUser] = useState(emptyUser);
  const { submit, busy, error } = useSubmit(async () => {
    const user = await api.post<User>("/users", {
      ...newUser,
      login_type: "password",
      // New users join the owner's organization, as in Coder's form.
      organization_ids: session.user.organization_ids.slice(0, 1),
    });
    onCreated(user);
  });
  return (
    <form class="card create-user" onSubmit={submit} aria-labelledby="create-user-title">
      <h2 id="create-user-title">Create user</h2>
      <ErrorAlert error={error} />
      <NewUserFields user={newUser} onChange={setNewUser} error={error} idPrefix="new-" />
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          Create user
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

// One role checkbox per site role; a change is saved at once, and shown while it is.
function RoleChoices(props: { user: User; roles: string[]; disabled: boolean; busy: boolean; onChange: (roles: string[]) => void }) {
  const has = new Set(props.roles);
  const toggle = (role: string, on: boolean) => {
    const next = new Set(has);
    if (on) next.add(role);
    else next.delete(role);
    next.delete("member");
    props.onChange([...next]);
  };
  return (
    <fieldset class="role-choices" aria-label={`Roles of ${props.user.username}`} disabled={props.disabled || props.busy}>
      {siteRoles.map((role) => (
        <label key={role.name}>
          <input
            type="checkbox"
            checked={has.has(role.name)}
            onChange={(e) => toggle(role.name, e.currentTarget.checked)}
          />
          {role.label}
        </label>
      ))}
    </fieldset>
  );
}

function UserRow({ user, onChanged }: { user: User; onChanged: (u: User) => void }) {
  const session = useSession();
  const self = user.id === session.user.id;
  const [confirmSuspend, setConfirmSuspend] = useState(false);
  // The roles being saved; the user's own once the answer came (or the save failed).
  const [savingRoles, setSavingRoles] = useState<string[]>();
  const { run, busy, error } = useAction(async (request: () => Promise<User>) => onChanged(await request()));
  const setStatus = (action: "suspend" | "activate") =>
    run(() => api.put<User>(`/users/${user.id}/status/${action}`));
  const setRoles = async (roles: string[]) => {
    setSavingRoles(roles);
    await run(() => api.put<User>(`/users/${user.id}/roles`, { roles }));
    setSavingRoles(undefined);
  };
  return (
    <>
      <tr data-username={user.username}>
        <td>
          <strong>{user.username}</strong>
          <div class="muted small">{user.email}</div>
        </td>
        <td>
          <Badge tone={statusTone[user.status] ?? "muted"}>{statusText[user.status] ?? user.status}</Badge>
        </td>
        <td>
          <RoleChoices
            user={user}
            roles={savingRoles ?? user.roles.map((r) => r.name)}
            disabled={self} busy={busy} onChange={(roles) => void setRoles(roles)} />
        </td>
        <td class="hide-narrow">
          <RelativeTime at={user.last_seen_at} />
        </td>
        <td class="cell-actions">
          {!self && user.status !== "suspended" && (
            <button type="button" disabled={busy} onClick={() => setConfirmSuspend(true)} aria-label={`Suspend ${user.username}`}>
              Suspend
            </button>
          )}
          {!self && user.status === "suspended" && (
            <button type="button" disabled={busy} onClick={() => void setStatus("activate")} aria-label={`Activate ${user.username}`}>
              Activate
            </button>
          )}
        </td>
      </tr>
      <ErrorRow error={error} columns={5} />
      {confirmSuspend && (
        <ConfirmDialog
          title={`Suspend ${user.username}?`}
          confirmLabel="Suspend"
          danger
          onCancel={() => setConfirmSuspend(false)}
          onConfirm={() => {
            setConfirmSuspend(false);
            void setStatus("suspend");
          }}
        >
          <p>
            {user.username} will no longer be able to sign in, and their running workspaces will be stopped. You can activate
            the account again later.
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}

function UserList() {
  const [search, setSearch] = useState("");
  const [query, setQuery] = useState("");
  const [offset, setOffset] = useState(0);
  const [creating, setCreating] = useState(false);
  const users = useLoad(
    () => api.get<UsersResponse>(`/users?q=${encodeURIComponent(query)}&limit=${pageSize}&offset=${offset}`),
    [query, offset],
  );
  const replace = (updated: User) => {
    if (users.data)
      users.set({ ...users.data, users: users.data.users.map((u) => (u.id === updated.id ? updated : u)) });
  };
  const submitSearch = (e: Event) => {
    e.preventDefault();
    setOffset(0);
    setQuery(search.trim());
  };
  const count = users.data?.count ?? 0;
  return (
    <>
      <PageHeader title="Users">
        {!creating && (
          <button type="button" class="primary" onClick={() => setCreating(true)}>
            Create user
          </button>
        )}
      </PageHeader>
      {creating && (
        <CreateUserForm
          onCancel={() => setCreating(false)}
          onCreated={() => {
            setCreating(false);
            users.reload();
          }}
        />
      )}
      <form class="search" role="search" onSubmit={submitSearch}>
        <label for="user-search" class="visually-hidden">
          Search users
        </label>
        <input
          id="user-search"
          type="search"
          placeholder="Search users (e.g. status:active)"
          value={search}
          onInput={(e) => setSearch(e.currentTarget.value)}
        />
        <button type="submit">Search</button>
      </form>
      <ErrorAlert error={users.error} />
      {users.loading && !users.data && <Loading what="users" />}
      {users.data && users.data.users.length === 0 && <p class="muted">No users match this search.</p>}
      {users.data && users.data.users.length > 0 && (
        <div class="table-wrap">
          <table class="users-table">
            <thead>
              <tr>
                <th>User</th>
                <th>Status</th>
                <th>Roles</th>
                <th class="hide-narrow">Last seen</th>
                <th>
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {users.data.users.map((u) => (
                <UserRow key={u.id} user={u} onChanged={replace} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {count > pageSize && (
        <nav class="pager" aria-label="Pages">
          <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - pageSize))}>
            Previous
          </button>
          <span class="muted">
            {offset + 1}–{Math.min(offset + pageSize, count)} of {count}
          </span>
          <button type="button" disabled={offset + pageSize >= count} onClick={() => setOffset(offset + pageSize)}>
            Next
          </button>
        </nav>
      )}
    </>
  );
}

export function UsersPage(_props: { params: Record<string, string> }) {
  const session = useSession();
  if (!session.isOwner)
    return (
      <>
        <PageHeader title="Users" />
        <div class="alert error" role="alert">
          <strong>Only owners can manage users.</strong>
          <p class="detail">Ask an owner of this server to add, suspend or change the roles of users.</p>
        </div>
      </>
    );
  return <UserList />;
}
