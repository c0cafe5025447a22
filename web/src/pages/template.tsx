// One template: what it is, its versions with their import logs and READMEs, how to push a new
// version, and (for those who manage templates) which version is active.
import { useState } from "preact/hooks";
import { api, ApiError, seg } from "../api";
import { ActionButton, Badge, ErrorAlert, ErrorRow, Loading, PageHeader, RelativeTime } from "../components";
import { useLoad } from "../hooks";
import { LogView, useLogStream } from "../logs";
import { Link, navigate, useLocation } from "../router";
import { useSession } from "../session";
import type { JobStatus, ProvisionerJobLog, Template, TemplateVersion } from "../types";

const jobStatusText: Record<JobStatus, string> = {
  pending: "Pending",
  running: "Running",
  succeeded: "Succeeded",
  canceling: "Canceling",
  canceled: "Canceled",
  failed: "Failed",
};

const jobStatusTone: Record<JobStatus, "ok" | "warn" | "bad" | "muted"> = {
  pending: "warn",
  running: "warn",
  succeeded: "ok",
  canceling: "warn",
  canceled: "muted",
  failed: "bad",
};

function JobStatusBadge({ status }: { status: JobStatus }) {
  return <Badge tone={jobStatusTone[status] ?? "muted"}>{jobStatusText[status] ?? status}</Badge>;
}

function isLive(status: JobStatus): boolean {
  return status === "pending" || status === "running";
}

// The template by its name (the page's path), wherever its organization.
async function loadTemplate(name: string): Promise<Template> {
  const found = await api.get<Template[]>(`/templates?q=${encodeURIComponent("exact_name:" + name)}`);
  const template = found.find((t) => t.name === name) ?? found[0];
  if (!template) throw new ApiError(404, `Template "${name}" not found.`, "It may have been deleted, or you may not be allowed to see it.", []);
  return template;
}

// A version's import logs: all of them at once when the job is over; while it runs, followed
// on the WebSocket until the server ends the stream, and then the version is read again.
function ImportLogs({ version, onJobEnded }: { version: TemplateVersion; onJobEnded: () => void }) {
  const live = isLive(version.job.status);
  const { logs, error, loading } = useLogStream<ProvisionerJobLog>({
    path: `/templateversions/${version.id}/logs`,
    follow: live,
    followQuery: "follow=true",
    resume: () => false,
    interrupted: "",
    onEnd: onJobEnded,
  });
  if (error) return <ErrorAlert error={error} />;
  if (loading) return <Loading what="logs" />;
  return (
    <LogView
      lines={logs}
      label={`Import logs of ${version.name}`}
      live={live}
      empty={live ? "Waiting for logs…" : "No logs."}
      group={(line) => line.stage}
      heading={(stage) => stage || "Logs"}
      level={(line) => line.log_level}
    >
      {version.job.error && <div class="line error">{version.job.error}</div>}
    </LogView>
  );
}

function VersionDetails(props: { template: Template; version: TemplateVersion; onJobEnded: () => void }) {
  const { version } = props;
  return (
    <section aria-labelledby="version-title">
      <h2 id="version-title">Version {version.name}</h2>
      <p class="muted">
        <JobStatusBadge status={version.job.status} /> pushed by {version.created_by?.username ?? "unknown"}{" "}
        <RelativeTime at={version.created_at} />
        {version.message && <> · {version.message}</>}
      </p>
      <h3>Import logs</h3>
      <ImportLogs version={version} onJobEnded={props.onJobEnded} />
      <h3>README</h3>
      {version.readme ? <pre class="readme">{version.readme}</pre> : <p class="muted">This version has no README.md.</p>}
    </section>
  );
}

function VersionRow(props: {
  version: TemplateVersion;
  active: boolean;
  selected: boolean;
  canPromote: boolean;
  onSelect: () => void;
  onPromote: () => Promise<void>;
}) {
  const { version } = props;
  const [error, setError] = useState<ApiError>();
  return (
    <>
      <tr class={props.selected ? "selected" : undefined}>
        <td>
          <button type="button" class="link-button" aria-pressed={props.selected} onClick={props.onSelect}>
            {version.name}
          </button>{" "}
          {props.active && <Badge tone="ok">Active</Badge>}
        </td>
        <td>
          <JobStatusBadge status={version.job.status} />
        </td>
        <td class="hide-narrow">{version.created_by?.username}</td>
        <td class="hide-narrow">{version.message}</td>
        <td class="hide-narrow">
          <RelativeTime at={version.created_at} />
        </td>
        <td class="cell-actions">
          {props.canPromote && !props.active && version.job.status === "succeeded" && (
            <ActionButton action={props.onPromote} onError={setError} aria-label={`Promote version ${version.name}`}>
              Promote
            </ActionButton>
          )}
        </td>
      </tr>
      <ErrorRow error={error} columns={6} />
    </>
  );
}

function Versions(props: { template: Template; onPromoted: () => void }) {
  const { template } = props;
  const session = useSession();
  const { path, query } = useLocation();
  const versions = useLoad(() => api.get<TemplateVersion[]>(`/templates/${template.id}/versions`), [template.id]);
  const canPromote = session.isOwner || session.user.roles.some((r) => r.name === "template-admin");
  const list = versions.data ? [...versions.data].reverse() : []; // newest first
  const wanted = query.get("version");
  const selected =
    list.find((v) => v.name === wanted) ?? list.find((v) => v.id === template.active_version_id) ?? list[0];
  const select = (v: TemplateVersion) => navigate(`${path}?version=${encodeURIComponent(v.name)}`, true);
  const promote = async (v: TemplateVersion) => {
    await api.patch(`/templates/${template.id}/versions`, { id: v.id });
    props.onPromoted();
  };
  return (
    <>
      <h2>Versions</h2>
      <ErrorAlert error={versions.error} />
      {versions.loading && !versions.data && <Loading what="versions" />}
      {list.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Version</th>
                <th>Status</th>
                <th class="hide-narrow">Created by</th>
                <th class="hide-narrow">Message</th>
                <th class="hide-narrow">Created</th>
                <th>
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((v) => (
                <VersionRow
                  key={v.id}
                  version={v}
                  active={v.id === template.active_version_id}
                  selected={v.id === selected?.id}
                  canPromote={canPromote}
                  onSelect={() => select(v)}
                  onPromote={() => promote(v)}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {selected && <VersionDetails template={template} version={selected} onJobEnded={versions.reload} />}
    </>
  );
}

export function TemplatePage({ params }: { params: Record<string, string> }) {
  const name = params["template"] ?? "";
  const template = useLoad(() => loadTemplate(name), [name]);
  const t = template.data;
  if (template.error)
    return (
      <>
        <PageHeader title={name} />
        <ErrorAlert error={template.error} />
      </>
    );
  if (!t) return <Loading what="template" />;
  return (
    <>
      <PageHeader title={t.display_name || t.name}>
        {!t.deprecated && (
          <Link href={`/templates/${seg(t.name)}/workspace`} class="button primary">
            Create workspace
          </Link>
        )}
      </PageHeader>
      <div class="template-name">
        {t.icon && <img class="template-icon" src={t.icon} alt="" />}
        {t.description && <p>{t.description}</p>}
      </div>
      {t.deprecated && (
        <p>
          <Badge tone="warn">Deprecated</Badge> {t.deprecation_message}
        </p>
      )}
      <p class="muted">
        Created by {t.created_by_name} · {t.active_user_count}{" "}
        {t.active_user_count === 1 ? "developer uses it" : "developers use it"} · updated <RelativeTime at={t.updated_at} />
      </p>
      <Versions template={t} onPromoted={template.reload} />
      <h2>Push a new version</h2>
      <p>Change the template's files, then push them with the CLI; the new version becomes the active one.</p>
      <pre class="cli-example">
        <code>{`berth templates push ${t.name} -d <directory with main.tf> -m "what changed"`}</code>
      </pre>
    </>
  );
}
