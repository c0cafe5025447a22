// The templates people can build workspaces from, and how to push the first one with the CLI.
import { api, seg } from "../api";
import { Badge, ErrorAlert, Loading, PageHeader, RelativeTime } from "../components";
import { useLoad } from "../hooks";
import { Link } from "../router";
import type { Template } from "../types";

// The two CLI commands that put a template on this server.
export function PushInstructions({ name }: { name: string }) {
  return (
    <pre class="cli-example">
      <code>
        {`berth login ${location.origin}\nberth templates push ${name} -d <directory with main.tf>`}
      </code>
    </pre>
  );
}

function TemplateRow({ template }: { template: Template }) {
  const href = `/templates/${seg(template.name)}`;
  return (
    <tr>
      <td>
        <div class="template-name">
          {template.icon && <img class="template-icon" src={template.icon} alt="" />}
          <div>
            <Link href={href}>{template.display_name || template.name}</Link>
            {template.deprecated && (
              <>
                {" "}
                <Badge tone="warn">Deprecated</Badge>
              </>
            )}
            {template.description && <p class="muted small">{template.description}</p>}
          </div>
        </div>
      </td>
      <td class="hide-narrow">
        {template.active_user_count} {template.active_user_count === 1 ? "developer" : "developers"}
      </td>
      <td class="hide-narrow">
        <RelativeTime at={template.updated_at} />
      </td>
      <td class="cell-actions">
        {!template.deprecated && (
          <Link
            href={`${href}/workspace`}
            class="button"
            aria-label={`Create workspace from ${template.display_name || template.name}`}
          >
            Create workspace
          </Link>
        )}
      </td>
    </tr>
  );
}

export function TemplatesPage(_props: { params: Record<string, string> }) {
  const templates = useLoad(() => api.get<Template[]>("/templates"), []);
  return (
    <>
      <PageHeader title="Templates" />
      <ErrorAlert error={templates.error} />
      {templates.loading && !templates.data && <Loading what="templates" />}
      {templates.data && templates.data.length === 0 && (
        <div class="card empty-state">
          <h2>No templates yet</h2>
          <p>A template is a directory of Terraform files. Push one to this server with the CLI:</p>
          <PushInstructions name="my-template" />
        </div>
      )}
      {templates.data && templates.data.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th class="hide-narrow">Used by</th>
                <th class="hide-narrow">Last updated</th>
                <th>
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {templates.data.map((t) => (
                <TemplateRow key={t.id} template={t} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
