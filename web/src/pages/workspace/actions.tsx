// The workspace's build actions, with Coder's names: Start, Stop, Restart (a stop, then a start
// once the stop has succeeded), Update (a start on the template's active version), Cancel for
// a build in progress, and Delete after typing the workspace's name.
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, seg } from "../../api";
import { ActionButton, ConfirmDialog, ErrorAlert } from "../../components";
import { toApiError, useAction } from "../../hooks";
import { useSession } from "../../session";
import type { Workspace, WorkspaceBuild, WorkspaceTransition } from "../../types";
import { isJobLive } from "./build_logs";

function postBuild(workspace: Workspace, transition: WorkspaceTransition, templateVersionId?: string) {
  const body: Record<string, unknown> = { transition };
  if (templateVersionId) body.template_version_id = templateVersionId;
  return api.post<WorkspaceBuild>(`/workspaces/${seg(workspace.id)}/builds`, body);
}

function DeleteDialog(props: { workspace: Workspace; onDone: () => void; onCancel: () => void }) {
  const [typed, setTyped] = useState("");
  const { run: confirm, busy, error } = useAction(async () => {
    await postBuild(props.workspace, "delete");
    props.onDone();
  });
  return (
    <ConfirmDialog
      title="Delete workspace"
      confirmLabel="Delete"
      danger
      confirmDisabled={busy || typed !== props.workspace.name}
      onConfirm={() => void confirm()}
      onCancel={props.onCancel}
    >
      <p>
        Deleting <strong>{props.workspace.name}</strong> removes its resources and cannot be undone.
      </p>
      <div class="field">
        <label for="delete-confirm">
          Type <strong>{props.workspace.name}</strong> to confirm
        </label>
        <input
          id="delete-confirm"
          autoComplete="off"
          value={typed}
          onInput={(e) => setTyped(e.currentTarget.value)}
        />
      </div>
      <ErrorAlert error={error} />
    </ConfirmDialog>
  );
}

export function WorkspaceActions({ workspace }: { workspace: Workspace }) {
  const session = useSession();
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [deleting, setDeleting] = useState(false);
  // A restart's stop build (state, so that a stop that finished before its POST answered is
  // still seen), and whether a restart is under way.
  const [restartAfter, setRestartAfter] = useState<string | null>(null);
  const [restarting, setRestarting] = useState(false);
  const build = workspace.latest_build;
  const status = build.status;
  const inProgress = isJobLive(build.job.status);

  // The second half of Restart: when the stop build it started has finished.
  useEffect(() => {
    if (!restartAfter || build.id !== restartAfter || inProgress) return;
    setRestartAfter(null);
    if (build.job.status !== "succeeded") {
      setRestarting(false);
      setError(new ApiError(0, "The restart stopped the workspace but did not start it again.", build.job.error ?? `The stop build ${build.job.status}.`, []));
      return;
    }
    postBuild(workspace, "start").then(
      () => setRestarting(false),
      (e: unknown) => {
        setRestarting(false);
        setError(toApiError(e));
      },
    );
  }, [build.id, build.job.status, restartAfter]);

  const run = (transition: WorkspaceTransition, version?: string) => async () => {
    setError(undefined);
    await postBuild(workspace, transition, version);
  };
  const restart = async () => {
    setError(undefined);
    setRestarting(true);
    try {
      const stop = await postBuild(workspace, "stop");
      setRestartAfter(stop.id);
    } catch (e) {
      setRestarting(false);
      throw e;
    }
  };
  const cancel = async () => {
    setError(undefined);
    await api.patch(`/workspacebuilds/${seg(build.id)}/cancel`);
  };

  const gone = status === "deleting" || status === "deleted";
  const canStart = !inProgress && !gone && ["stopped", "failed", "canceled"].includes(status);
  const canStop = !inProgress && !gone && ["running", "failed", "canceled"].includes(status);
  const canRestart = !inProgress && status === "running";
  const canUpdate =
    !inProgress && !gone && workspace.outdated && Boolean(workspace.template_active_version_id);
  // Coder lets owners cancel any build, others only where the template allows it.
  const canCancel =
    (build.job.status === "pending" || build.job.status === "running") &&
    (session.isOwner || workspace.template_allow_user_cancel_workspace_jobs !== false);
  const onError = (e: ApiError) => setError(e);
  return (
    <div class="workspace-actions">
      <div class="actions">
        {canStart && (
          <ActionButton class="primary" action={run("start")} onError={onError}>
            Start
          </ActionButton>
        )}
        {canStop && (
          <ActionButton action={run("stop")} onError={onError}>
            Stop
          </ActionButton>
        )}
        {canRestart && (
          <ActionButton action={restart} disabled={restarting} onError={onError}>
            Restart
          </ActionButton>
        )}
        {canUpdate && (
          <ActionButton action={run("start", workspace.template_active_version_id)} onError={onError}>
            Update
          </ActionButton>
        )}
        {canCancel && (
          <ActionButton action={cancel} onError={onError}>
            Cancel
          </ActionButton>
        )}
        {!gone && (
          <button type="button" class="danger" disabled={inProgress} onClick={() => setDeleting(true)}>
            Delete
          </button>
        )}
      </div>
      {restarting && (
        <p role="status" class="muted">
          Restarting: the workspace starts again once it has stopped.
        </p>
      )}
      <ErrorAlert error={error} />
      {deleting && (
        <DeleteDialog workspace={workspace} onDone={() => setDeleting(false)} onCancel={() => setDeleting(false)} />
      )}
    </div>
  );
}
