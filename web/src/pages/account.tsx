// The signed-in user's own settings: profile, API tokens, and quiet hours.
import { useState } from "preact/hooks";
import { api, ApiError } from "../api";
import { ConfirmDialog, ErrorAlert, Field, Loading, PageHeader, RelativeTime } from "../components";
import { useAction, useLoad, useSubmit } from "../hooks";
import { useSession } from "../session";
import type { APIKey, QuietHoursSchedule, TokenConfig } from "../types";

const nanosPerDay = 86400 * 1e9;

function Profile() {
  const { user } = useSession();
  return (
    <section aria-labelledby="profile-title" class="card settings-section">
      <h2 id="profile-title">Profile</h2>
      <dl class="facts">
        <dt>Username</dt>
        <dd>{user.username}</dd>
        <dt>Email</dt>
        <dd>{user.email}</dd>
        {user.name && (
          <>
            <dt>Name</dt>
            <dd>{user.name}</dd>
          </>
        )}
        <dt>Roles</dt>
        <dd>{user.roles.length ? user.roles.map((r) => r.display_name || r.name).join(", ") : "Member"}</dd>
      </dl>
    </section>
  );
}

// The new token, shown once: the server keeps only its hash.
function NewToken({ token, onDismiss }: { token: string; onDismiss: () => void }) {
  const [copied, setCopied] = useState<string>();
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(token);
      setCopied("Copied to the clipboard.");
    } catch {
      setCopied("The browser did not allow copying; select the token and copy it.");
    }
  };
  return (
    <div class="alert success" role="status">
      <strong>Copy your token now: it will not be shown again.</strong>
      <pre class="token" aria-label="New API token">
        <code>{token}</code>
      </pre>
      <div class="actions">
        <button type="button" onClick={() => void copy()}>
          Copy token
        </button>
        <button type="button" onClick={onDismiss}>
          Done
        </button>
        {copied && <span class="muted">{copied}</span>}
      </div>
    </div>
  );
}

function CreateTokenForm({ onCreated }: { onCreated: (token: string) => void }) {
  const config = useLoad(() => api.get<TokenConfig>("/users/me/keys/tokens/tokenconfig"), []);
  const [name, setName] = useState("");
  const [days, setDays] = useState("30");
  const max = config.data?.max_token_lifetime;
  const choices = [7, 30, 60, 90, 365].filter((d) => max === undefined || d * nanosPerDay <= max);
  const { submit, busy, error } = useSubmit(async () => {
    // `lifetime` is a Go duration: nanoseconds.
    const { key } = await api.post<{ key: string }>("/users/me/keys/tokens", {
      token_name: name.trim(),
      lifetime: Number(days) * nanosPerDay,
    });
    setName("");
    onCreated(key);
  });
  return (
    <form onSubmit={submit} class="inline-form" aria-label="Create token">
      <ErrorAlert error={error ?? config.error} />
      <Field label="Token name" id="token-name" error={error?.fieldDetail("token_name")}>
        <input id="token-name" required maxLength={64} value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </Field>
      <Field label="Expires in" id="token-lifetime" error={error?.fieldDetail("lifetime")}>
        <select id="token-lifetime" value={days} onChange={(e) => setDays(e.currentTarget.value)}>
          {choices.map((d) => (
            <option key={d} value={String(d)}>
              {d} days
            </option>
          ))}
        </select>
      </Field>
      <button type="submit" class="primary" disabled={busy}>
        Create token
      </button>
    </form>
  );
}

function Tokens() {
  const tokens = useLoad(() => api.get<APIKey[]>("/users/me/keys/tokens"), []);
  const [created, setCreated] = useState<string>();
  const [deleting, setDeleting] = useState<APIKey>();
  const { run: remove, error: deleteError } = useAction(async (key: APIKey) => {
    setDeleting(undefined);
    await api.delete(`/users/me/keys/${key.id}`);
    tokens.reload();
  });
  const list = tokens.data ?? [];
  return (
    <section aria-labelledby="tokens-title" class="card settings-section">
      <h2 id="tokens-title">Tokens</h2>
      <p class="muted">
        API tokens act as you from scripts and the CLI (<code>berth login --token</code>, or the <code>Coder-Session-Token</code>{" "}
        header).
      </p>
      {created && <NewToken token={created} onDismiss={() => setCreated(undefined)} />}
      <CreateTokenForm
        onCreated={(token) => {
          setCreated(token);
          tokens.reload();
        }}
      />
      <ErrorAlert error={tokens.error ?? deleteError} />
      {tokens.loading && !tokens.data && <Loading what="tokens" />}
      {tokens.data && list.length === 0 && <p class="muted">You have no tokens.</p>}
      {list.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th class="hide-narrow">Last used</th>
                <th>Expires</th>
                <th class="hide-narrow">Created</th>
                <th>
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((key) => (
                <tr key={key.id} data-token-name={key.token_name}>
                  <td>{key.token_name || key.id}</td>
                  <td class="hide-narrow">
                    <RelativeTime at={key.last_used} />
                  </td>
                  <td>
                    <RelativeTime at={key.expires_at} />
                  </td>
                  <td class="hide-narrow">
                    <RelativeTime at={key.created_at} />
                  </td>
                  <td class="cell-actions">
                    <button type="button" onClick={() => setDeleting(key)} aria-label={`Delete token ${key.token_name || key.id}`}>
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {deleting && (
        <ConfirmDialog
          title={`Delete token ${deleting.token_name}?`}
          confirmLabel="Delete"
          danger
          onCancel={() => setDeleting(undefined)}
          onConfirm={() => void remove(deleting)}
        >
          <p>Scripts and programs that use this token will no longer be able to reach the API.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}

// Every IANA zone the browser knows, with this browser's own and the current one.
function timeZones(current: string): string[] {
  const zones = new Set<string>(["UTC", current, Intl.DateTimeFormat().resolvedOptions().timeZone]);
  try {
    for (const z of Intl.supportedValuesOf("timeZone")) zones.add(z);
  } catch {
    // An older browser: the few above will do.
  }
  zones.delete("");
  return [...zones].sort();
}

// Quiet hours, as Coder's "Schedule" settings: a daily start time in a time zone. The API takes
// it as a cron line (`CRON_TZ=<zone> <minute> <hour> * * *`) in `schedule`.
function QuietHoursForm({ schedule, onSaved }: { schedule: QuietHoursSchedule; onSaved: (s: QuietHoursSchedule) => void }) {
  const [time, setTime] = useState(schedule.time);
  const [zone, setZone] = useState(schedule.timezone || "UTC");
  const [saved, setSaved] = useState(false);
  const { submit, busy, error } = useSubmit(async () => {
    setSaved(false);
    const [hour, minute] = time.split(":").map((part) => Number(part));
    if (hour === undefined || minute === undefined || isNaN(hour) || isNaN(minute))
      throw new ApiError(0, "Enter a start time.", "", [{ field: "schedule", detail: "Enter the time as hours and minutes." }]);
    onSaved(await api.put<QuietHoursSchedule>("/users/me/quiet-hours", { schedule: `CRON_TZ=${zone} ${minute} ${hour} * * *` }));
    setSaved(true);
  });
  return (
    <form onSubmit={submit} class="inline-form" aria-label="Quiet hours schedule">
      <ErrorAlert error={error} />
      <Field label="Start time" id="quiet-start" error={error?.fieldDetail("schedule")}>
        <input id="quiet-start" type="time" required value={time} onInput={(e) => setTime(e.currentTarget.value)} />
      </Field>
      <Field label="Timezone" id="quiet-zone">
        <select id="quiet-zone" value={zone} onChange={(e) => setZone(e.currentTarget.value)}>
          {timeZones(zone).map((z) => (
            <option key={z} value={z}>
              {z}
            </option>
          ))}
        </select>
      </Field>
      <div class="actions">
        <button type="submit" class="primary" disabled={busy || !schedule.user_can_set}>
          Update schedule
        </button>
        {saved && (
          <span class="muted" role="status">
            Schedule updated.
          </span>
        )}
      </div>
    </form>
  );
}

function QuietHours() {
  const quiet = useLoad(() => api.get<QuietHoursSchedule>("/users/me/quiet-hours"), []);
  const q = quiet.data;
  return (
    <section aria-labelledby="quiet-title" class="card settings-section">
      <h2 id="quiet-title">Quiet hours</h2>
      <ErrorAlert error={quiet.error} />
      {!q && !quiet.error && <Loading what="schedule" />}
      {q && (
        <>
          <p class="quiet-summary">
            Quiet hours start at <strong>{q.time}</strong> ({q.timezone}) every day
            {q.user_set ? "" : ", the default for this server"}.
            {q.next && (
              <>
                {" "}
                Next: <RelativeTime at={q.next} />.
              </>
            )}
          </p>
          <p class="muted small quiet-raw">
            Your workspaces may be stopped or updated automatically in the hours that follow this time. Schedule:{" "}
            <code>{q.raw_schedule}</code>
          </p>
          <QuietHoursForm schedule={q} onSaved={quiet.set} />
        </>
      )}
    </section>
  );
}

export function AccountPage(_props: { params: Record<string, string> }) {
  return (
    <>
      <PageHeader title="Account" />
      <Profile />
      <Tokens />
      <QuietHours />
    </>
  );
}
