// The workspace's own settings: its name (PATCH /workspaces/{id}), its favorite mark, and
// dormancy (shown, and lifted with Activate).
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, seg } from "../../api";
import { ActionButton, ErrorAlert, Field, RelativeTime } from "../../components";
import { useSubmit } from "../../hooks";
import { navigate } from "../../router";
import type { Workspace } from "../../types";

export function RenameForm({ workspace }: { workspace: Workspace }) {
  const [name, setName] = useState(workspace.name);
  useEffect(() => setName(workspace.name), [workspace.name]);
  const { submit, busy, error } = useSubmit(async () => {
    await api.patch(`/workspaces/${seg(workspace.id)}`, { name });
    // The page's address names the workspace: follow the new name.
    navigate(`/@${seg(workspace.owner_name)}/${seg(name)}`, true);
  });
  const fieldError = error?.fieldDetail("name");
  return (
    <form class="card rename-form" onSubmit={submit} aria-label="Rename workspace">
      <Field
        label="Workspace name"
        id="workspace-name"
        error={fieldError}
        hint={workspace.allow_renames ? undefined : "This deployment does not allow renaming workspaces."}
      >
        <input
          id="workspace-name"
          required
          maxLength={32}
          disabled={!workspace.allow_renames}
          value={name}
          onInput={(e) => setName(e.currentTarget.value)}
        />
      </Field>
      {error && !fieldError && <ErrorAlert error={error} />}
      <button type="submit" disabled={busy || !workspace.allow_renames || name === workspace.name} aria-busy={busy}>
        Rename
      </button>
    </form>
  );
}

export function FavoriteButton({ workspace, onError }: { workspace: Workspace; onError: (e: ApiError) => void }) {
  // The watch stream carries the new mark; until then the button shows what was asked.
  const [favorite, setFavorite] = useState(workspace.favorite);
  useEffect(() => setFavorite(workspace.favorite), [workspace.favorite]);
  const toggle = async () => {
    const path = `/workspaces/${seg(workspace.id)}/favorite`;
    if (favorite) await api.delete(path);
    else await api.put(path);
    setFavorite(!favorite);
  };
  return (
    <ActionButton action={toggle} onError={onError} aria-pressed={favorite}>
      <span aria-hidden="true">{favorite ? "★ " : "☆ "}</span>
      {favorite ? "Unfavorite" : "Favorite"}
    </ActionButton>
  );
}

export function DormancyNotice({ workspace, onError }: { workspace: Workspace; onError: (e: ApiError) => void }) {
  if (!workspace.dormant_at) return null;
  const activate = () => api.put(`/workspaces/${seg(workspace.id)}/dormant`, { dormant: false });
  return (
    <div class="alert warn" role="status">
      <strong>This workspace is dormant</strong>
      <p class="detail">
        It was marked dormant <RelativeTime at={workspace.dormant_at} /> after a period without use
        {workspace.deleting_at && (
          <>
            {" "}
            and will be deleted <RelativeTime at={workspace.deleting_at} />
          </>
        )}
        . Activate it to use it again.
      </p>
      <ActionButton action={activate} onError={onError}>
        Activate
      </ActionButton>
    </div>
  );
}
