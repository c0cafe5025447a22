// Pieces every page uses: errors as the API gave them, labelled fields, status badges, times.
import type { ComponentChildren, JSX } from "preact";
import { useEffect, useRef } from "preact/hooks";
import { ApiError } from "./api";
import { toApiError, useAction } from "./hooks";
import type { WorkspaceStatus } from "./types";

// The API's message, its detail, and any field validations, where the error happened.
export function ErrorAlert({ error }: { error: ApiError | Error | undefined | null }) {
  if (!error) return null;
  const e = error instanceof ApiError ? error : toApiError(error);
  return (
    <div class="alert error" role="alert">
      <strong>{e.message}</strong>
      {e.detail && <p class="detail">{e.detail}</p>}
      {e.validations.length > 0 && (
        <ul>
          {e.validations.map((v) => (
            <li key={v.field}>
              <code>{v.field}</code>: {v.detail}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

// An error under a table's row, across its `columns`.
export function ErrorRow({ error, columns }: { error: ApiError | undefined; columns: number }) {
  if (!error) return null;
  return (
    <tr>
      <td colSpan={columns}>
        <ErrorAlert error={error} />
      </td>
    </tr>
  );
}

export function Loading({ what }: { what?: string }) {
  return (
    <p class="loading" role="status">
      Loading{what ? ` ${what}` : ""}…
    </p>
  );
}

// A form control with its label, a hint under it, and the error that names it.
export function Field(props: {
  label: string;
  id: string;
  hint?: ComponentChildren;
  error?: string;
  children: ComponentChildren;
}) {
  return (
    <div class={"field" + (props.error ? " invalid" : "")}>
      <label for={props.id}>{props.label}</label>
      {props.children}
      {props.hint && (
        <p class="hint" id={props.id + "-hint"}>
          {props.hint}
        </p>
      )}
      {props.error && (
        <p class="field-error" id={props.id + "-error"} role="alert">
          {props.error}
        </p>
      )}
    </div>
  );
}

const statusText: Record<WorkspaceStatus, string> = {
  pending: "Pending",
  starting: "Starting",
  running: "Running",
  stopping: "Stopping",
  stopped: "Stopped",
  failed: "Failed",
  canceling: "Canceling",
  canceled: "Canceled",
  deleting: "Deleting",
  deleted: "Deleted",
};

export function StatusBadge({ status }: { status: WorkspaceStatus }) {
  return <span class={`badge status-${status}`}>{statusText[status] ?? status}</span>;
}

// A plain badge with a tone: "ok", "warn", "bad" or "muted".
export function Badge({ tone, children }: { tone: "ok" | "warn" | "bad" | "muted"; children: ComponentChildren }) {
  return <span class={`badge tone-${tone}`}>{children}</span>;
}

// "3 minutes ago", with the exact time as a tooltip.
export function RelativeTime({ at }: { at: string | undefined | null }) {
  if (!at) return <span>never</span>;
  const date = new Date(at);
  if (isNaN(date.getTime()) || date.getFullYear() < 2000) return <span>never</span>;
  return (
    <time dateTime={at} title={date.toLocaleString()}>
      {relative(date)}
    </time>
  );
}

export function relative(date: Date, now = new Date()): string {
  const seconds = Math.round((date.getTime() - now.getTime()) / 1000);
  const abs = Math.abs(seconds);
  const units: [number, Intl.RelativeTimeFormatUnit][] = [
    [60, "second"],
    [3600, "minute"],
    [86400, "hour"],
    [604800, "day"],
    [2629800, "week"],
    [31557600, "month"],
  ];
  const format = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  let divisor = 1;
  for (const [limit, unit] of units) {
    if (abs < limit) return format.format(Math.round(seconds / divisor), unit);
    divisor = limit;
  }
  return format.format(Math.round(seconds / 31557600), "year");
}

// A button that runs an async action, shows that it is busy, and reports its failure.
export function ActionButton(
  props: {
    action: () => Promise<unknown>;
    onError?: (e: ApiError) => void;
    children: ComponentChildren;
  } & Omit<JSX.ButtonHTMLAttributes<HTMLButtonElement>, "onError" | "action">,
) {
  const { action, onError, children, disabled, ...rest } = props;
  const { run, busy } = useAction(action);
  const click = async () => {
    const failure = await run();
    if (failure) onError?.(failure);
  };
  return (
    <button type="button" disabled={busy || Boolean(disabled)} aria-busy={busy} onClick={() => void click()} {...rest}>
      {children}
    </button>
  );
}

// A modal that asks before something that cannot be undone; the page renders it when open.
export function ConfirmDialog(props: {
  title: string;
  children: ComponentChildren;
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
  danger?: boolean;
  confirmDisabled?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
  }, []);
  return (
    <dialog ref={ref} aria-labelledby="confirm-title" onCancel={props.onCancel}>
      <h2 id="confirm-title">{props.title}</h2>
      {props.children}
      <div class="actions">
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
        <button
          type="button"
          class={props.danger ? "danger" : "primary"}
          disabled={props.confirmDisabled}
          onClick={props.onConfirm}
        >
          {props.confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

// The page's heading and its actions on one row.
export function PageHeader({ title, children }: { title: ComponentChildren; children?: ComponentChildren }) {
  useEffect(() => {
    if (typeof title === "string") document.title = `${title} – Berth`;
  }, [title]);
  return (
    <div class="page-header">
      <h1>{title}</h1>
      {children && <div class="actions">{children}</div>}
    </div>
  );
}
