// A build's provisioner logs, stage by stage: followed live over the logs WebSocket while the
// build's job runs, read once when it has finished; and the workspace's build history.
import { useState } from "preact/hooks";
import { api, seg } from "../../api";
import { ErrorAlert, Loading, RelativeTime, StatusBadge } from "../../components";
import { useLoad } from "../../hooks";
import { LogView, useLogStream } from "../../logs";
import type { JobStatus, ProvisionerJobLog, WorkspaceBuild } from "../../types";

const liveJobStatuses: JobStatus[] = ["pending", "running", "canceling"];

export function isJobLive(status: JobStatus): boolean {
  return liveJobStatuses.includes(status);
}

export function BuildLogs({ build }: { build: WorkspaceBuild }) {
  const live = isJobLive(build.job.status);
  // Followed if the job ran when the page showed it (BuildLogs is keyed by build); a stream
  // that drops before the job has finished is resumed after the last line it delivered.
  const [follow] = useState(live);
  const { logs, error } = useLogStream<ProvisionerJobLog>({
    path: `/workspacebuilds/${seg(build.id)}/logs`,
    follow,
    followQuery: "follow=true",
    // The server ends the stream once the job has finished and every line was sent.
    resume: (event) => !event.wasClean && live,
    interrupted: "The build log stream was interrupted; reconnecting…",
  });
  return (
    <section aria-labelledby="build-logs-title">
      <h2 id="build-logs-title">
        Build #{build.build_number} logs <span class="muted">({build.transition})</span>
      </h2>
      <ErrorAlert error={error} />
      {build.job.error && (
        <div class="alert error" role="alert">
          <strong>The build failed.</strong>
          <p class="detail">{build.job.error}</p>
        </div>
      )}
      <LogView
        class="build-logs"
        lines={logs}
        label={`Logs of build ${build.build_number}`}
        live={live}
        empty={live ? "Waiting for logs…" : "No logs."}
        group={(line) => line.stage}
        heading={(stage) => stage || "Logs"}
        level={(line) => line.log_level}
      />
    </section>
  );
}

// The workspace's builds, newest first; choosing one shows its logs.
export function BuildHistory(props: {
  workspaceId: string;
  latest: WorkspaceBuild;
  selectedId: string;
  onSelect: (build: WorkspaceBuild) => void;
}) {
  const { latest } = props;
  // Loaded again whenever the latest build or its state changes, so the list follows it.
  const builds = useLoad(
    () => api.get<WorkspaceBuild[]>(`/workspaces/${seg(props.workspaceId)}/builds?limit=25`),
    [props.workspaceId, latest.id, latest.status],
  );
  return (
    <section aria-labelledby="build-history-title">
      <h2 id="build-history-title">Build history</h2>
      <ErrorAlert error={builds.error} />
      {!builds.data && builds.loading && <Loading what="builds" />}
      {builds.data && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Build</th>
                <th>Action</th>
                <th>Status</th>
                <th class="hide-narrow">By</th>
                <th class="hide-narrow">When</th>
                <th>
                  <span class="visually-hidden">Logs</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {builds.data.map((b) => (
                <tr key={b.id} aria-current={b.id === props.selectedId ? "true" : undefined}>
                  <td>#{b.build_number}</td>
                  <td>{b.transition}</td>
                  <td>
                    <StatusBadge status={b.status} />
                  </td>
                  <td class="hide-narrow">{b.initiator_name}</td>
                  <td class="hide-narrow">
                    <RelativeTime at={b.created_at} />
                  </td>
                  <td>
                    <button
                      type="button"
                      disabled={b.id === props.selectedId}
                      onClick={() => props.onSelect(b)}
                    >
                      {b.id === props.selectedId ? "Shown" : `View logs of #${b.build_number}`}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
