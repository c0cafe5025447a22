// /@{owner}/{workspace}: one workspace, live over its watch stream: status and template, the
// build actions, resources and agents, the current build's logs, build history, schedule,
// and its name and favorite mark.
import { useEffect, useState } from "preact/hooks";
import { ApiError, seg } from "../api";
import { Badge, ErrorAlert, Loading, PageHeader, RelativeTime, StatusBadge } from "../components";
import { useLiveWorkspace } from "../hooks";
import { Link } from "../router";
import type { Workspace, WorkspaceBuild } from "../types";
import { WorkspaceActions } from "./workspace/actions";
import { Resources } from "./workspace/agents";
import { BuildHistory, BuildLogs } from "./workspace/build_logs";
import { Schedule } from "./workspace/schedule";
import { DormancyNotice, FavoriteButton, RenameForm } from "./workspace/settings";

function Summary({ workspace }: { workspace: Workspace }) {
  const build = workspace.latest_build;
  return (
    <dl class="workspace-summary">
      <div>
        <dt>Status</dt>
        <dd>
          <StatusBadge status={build.status} />
        </dd>
      </div>
      <div>
        <dt>Template</dt>
        <dd>
          <Link href={`/templates/${seg(workspace.template_name)}`}>
            {workspace.template_display_name || workspace.template_name}
          </Link>
        </dd>
      </div>
      <div>
        <dt>Version</dt>
        <dd>
          {build.template_version_name}{" "}
          {workspace.outdated && (
            <span title="The template has a newer active version; Update builds on it.">
              <Badge tone="warn">Outdated</Badge>
            </span>
          )}
        </dd>
      </div>
      <div>
        <dt>Owner</dt>
        <dd>{workspace.owner_name}</dd>
      </div>
      <div>
        <dt>Last used</dt>
        <dd>
          <RelativeTime at={workspace.last_used_at} />
        </dd>
      </div>
    </dl>
  );
}

function WorkspaceView({ workspace }: { workspace: Workspace }) {
  const [selected, setSelected] = useState<WorkspaceBuild | null>(null);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const latest = workspace.latest_build;
  // A new build is what the reader wants to follow: back to the latest one.
  useEffect(() => setSelected(null), [latest.id]);
  const shown = selected && selected.id !== latest.id ? selected : latest;
  const deleted = latest.status === "deleted";
  return (
    <>
      <PageHeader title={workspace.name}>
        <FavoriteButton workspace={workspace} onError={setError} />
      </PageHeader>
      <ErrorAlert error={error} />
      <Summary workspace={workspace} />
      <DormancyNotice workspace={workspace} onError={setError} />
      {deleted ? (
        <div class="alert warn" role="status">
          <strong>This workspace was deleted.</strong>{" "}
          <Link href="/workspaces">Back to workspaces</Link>
        </div>
      ) : (
        <WorkspaceActions workspace={workspace} />
      )}
      {!deleted && <Resources workspace={workspace} />}
      <BuildLogs key={shown.id} build={shown} />
      <BuildHistory workspaceId={workspace.id} latest={latest} selectedId={shown.id} onSelect={setSelected} />
      {!deleted && (
        <>
          <Schedule workspace={workspace} />
          <section aria-labelledby="settings-title">
            <h2 id="settings-title">Settings</h2>
            <RenameForm workspace={workspace} />
          </section>
        </>
      )}
    </>
  );
}

export function WorkspacePage({ params }: { params: Record<string, string> }) {
  const owner = params.owner ?? "";
  const name = params.workspace ?? "";
  const { workspace, loaded } = useLiveWorkspace(owner, name);

  if (!workspace) {
    return (
      <>
        <PageHeader title={name} />
        {loaded.loading ? <Loading what="workspace" /> : <ErrorAlert error={loaded.error} />}
      </>
    );
  }
  return <WorkspaceView workspace={workspace} />;
}
