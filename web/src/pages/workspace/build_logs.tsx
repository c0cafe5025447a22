// A build's provisioner logs, stage by stage: followed live over the logs WebSocket while the
// build's job runs, read once when it has finished; and the workspace's build history.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, ApiError, openSocket, seg } from "../../api";
import { ErrorAlert, Loading, RelativeTime, StatusBadge } from "../../components";
import { toApiError, useLoad } from "../../hooks";
import type { JobStatus, ProvisionerJobLog, WorkspaceBuild } from "../../types";

const liveJobStatuses: JobStatus[] = ["pending", "running", "canceling"];

export function isJobLive(status: JobStatus): boolean {
  return liveJobStatuses.includes(status);
}

// The log lines of one build. A followed stream that drops before the job has finished is
// resumed after the last line it delivered.
function useBuildLogs(build: WorkspaceBuild): { logs: ProvisionerJobLog[]; error: ApiError | undefined } {
  const [logs, setLogs] = useState<ProvisionerJobLog[]>([]);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  // Whether the job is still running, read by the socket's close handler.
  const live = useRef(isJobLive(build.job.status));
  live.current = isJobLive(build.job.status);

  useEffect(() => {
    setLogs([]);
    setError(undefined);
    let closed = false;
    let socket: WebSocket | undefined;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let lastId = 0;
    const path = `/workspacebuilds/${seg(build.id)}/logs`;

    const follow = () => {
      socket = openSocket(`${path}?follow=true&after=${lastId}`);
      socket.onmessage = (event) => {
        try {
          const line = JSON.parse(String(event.data)) as ProvisionerJobLog;
          lastId = Math.max(lastId, line.id);
          setLogs((previous) => [...previous, line]);
        } catch {
          // Not a log line (a keep-alive); nothing to show.
        }
      };
      socket.onclose = (event) => {
        // The server ends the stream once the job has finished and every line was sent.
        if (closed || event.wasClean || !live.current) return;
        setError(new ApiError(0, "The build log stream was interrupted; reconnecting…", "", []));
        retry = setTimeout(() => {
          setError(undefined);
          follow();
        }, 2000);
      };
    };

    if (live.current) follow();
    else
      api.get<ProvisionerJobLog[]>(path).then(
        (lines) => !closed && setLogs(lines),
        (e: unknown) => !closed && setError(toApiError(e)),
      );
    return () => {
      closed = true;
      if (retry) clearTimeout(retry);
      socket?.close();
    };
  }, [build.id]);

  return { logs, error };
}

interface Stage {
  name: string;
  lines: ProvisionerJobLog[];
}

// Consecutive lines of the same stage, in the order the job wrote them.
function groupByStage(logs: ProvisionerJobLog[]): Stage[] {
  const stages: Stage[] = [];
  for (const line of logs) {
    const last = stages[stages.length - 1];
    if (last && last.name === line.stage) last.lines.push(line);
    else stages.push({ name: line.stage, lines: [line] });
  }
  return stages;
}

export function BuildLogs({ build }: { build: WorkspaceBuild }) {
  const { logs, error } = useBuildLogs(build);
  const box = useRef<HTMLDivElement>(null);
  // Keep the newest line in view while following, unless the reader scrolled up.
  const pinned = useRef(true);
  useEffect(() => {
    const el = box.current;
    if (el && pinned.current) el.scrollTop = el.scrollHeight;
  }, [logs.length]);
  const live = isJobLive(build.job.status);
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
      <div
        class="logs build-logs"
        ref={box}
        tabIndex={0}
        aria-label={`Logs of build ${build.build_number}`}
        aria-live={live ? "polite" : "off"}
        onScroll={(e) => {
          const el = e.currentTarget;
          pinned.current = el.scrollTop + el.clientHeight >= el.scrollHeight - 8;
        }}
      >
        {logs.length === 0 && <p class="muted">{live ? "Waiting for logs…" : "No logs."}</p>}
        {groupByStage(logs).map((stage, i) => (
          <div class="log-stage" key={`${i}-${stage.name}`}>
            <div class="stage">{stage.name || "Logs"}</div>
            {stage.lines.map((line) => (
              <div key={line.id} class={`line ${line.log_level}`}>
                {line.output}
              </div>
            ))}
          </div>
        ))}
      </div>
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
