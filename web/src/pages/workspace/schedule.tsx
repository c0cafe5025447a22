// The workspace's schedule: autostart (days, time, time zone as a CRON_TZ cron line, as Coder
// stores it), autostop after a number of hours (ttl_ms), and extending today's stop.
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, seg } from "../../api";
import { ActionButton, ErrorAlert, Field, RelativeTime } from "../../components";
import { useSubmit } from "../../hooks";
import type { Workspace } from "../../types";

const dayNames = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
// Monday first, as Coder's form lists them.
const dayOrder = [1, 2, 3, 4, 5, 6, 0];
const hourMs = 3600_000;

// The error a check of this form raises, on the field it names (as the API's would be).
function invalid(field: string, detail: string): ApiError {
  return new ApiError(400, "Validation failed.", "", [{ field, detail }]);
}

export interface Autostart {
  zone: string;
  hour: number;
  minute: number;
  days: Set<number>; // 0 = Sunday
}

// One cron field of single values, ranges and names ("1-5", "mon,wed", "*") as numbers.
function cronValues(field: string, lo: number, hi: number, names: string[] = []): number[] | null {
  const value = (text: string): number => {
    const named = names.findIndex((n) => n.toLowerCase() === text.toLowerCase());
    return named >= 0 ? named : /^\d+$/.test(text) ? Number(text) : NaN;
  };
  const out = new Set<number>();
  for (const part of field.split(",")) {
    const [range, stepText] = part.split("/");
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!range || !(step > 0)) return null;
    let from = lo;
    let to = hi;
    if (range !== "*") {
      const [a, b] = range.split("-");
      from = value(a ?? "");
      to = b === undefined ? from : value(b);
    }
    if (isNaN(from) || isNaN(to) || from > to) return null;
    for (let v = from; v <= to; v += step) out.add(names.length > 0 && v === 7 ? 0 : v);
  }
  return [...out];
}

// "CRON_TZ=Europe/Berlin 0 9 * * 1-5" → its parts; null for a line this form cannot show
// (several start times in a day).
export function parseAutostart(schedule: string): Autostart | null {
  let zone = "UTC";
  let rest = schedule.trim();
  const tz = /^CRON_TZ=(\S+)\s+(.*)$/.exec(rest);
  if (tz) {
    zone = tz[1]!;
    rest = tz[2]!;
  }
  const fields = rest.split(/\s+/);
  if (fields.length !== 5) return null;
  const minutes = cronValues(fields[0]!, 0, 59);
  const hours = cronValues(fields[1]!, 0, 23);
  const days = cronValues(fields[4]!, 0, 7, dayNames);
  if (!minutes || !hours || !days || minutes.length !== 1 || hours.length !== 1) return null;
  return { zone, minute: minutes[0]!, hour: hours[0]!, days: new Set(days) };
}

// Days as a cron field: runs of three or more days as ranges ("1-5"), others listed.
function daysField(days: Set<number>): string {
  const sorted = [...days].sort((a, b) => a - b);
  if (sorted.length === 7) return "*";
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    if (j - i >= 2) parts.push(`${sorted[i]}-${sorted[j]}`);
    else for (let k = i; k <= j; k++) parts.push(String(sorted[k]));
    i = j + 1;
  }
  return parts.join(",");
}

export function formatAutostart(a: Autostart): string {
  return `CRON_TZ=${a.zone} ${a.minute} ${a.hour} * * ${daysField(a.days)}`;
}

const pad = (n: number) => String(n).padStart(2, "0");

// "Mon–Fri" for a run of days, else the days listed.
function describeDays(days: Set<number>): string {
  const ordered = dayOrder.filter((d) => days.has(d));
  if (ordered.length === 7) return "every day";
  const runs: number[][] = [];
  for (const d of ordered) {
    const last = runs[runs.length - 1];
    if (last && dayOrder.indexOf(last[last.length - 1]!) + 1 === dayOrder.indexOf(d)) last.push(d);
    else runs.push([d]);
  }
  return runs
    .map((r) => (r.length >= 3 ? `${dayNames[r[0]!]}–${dayNames[r[r.length - 1]!]}` : r.map((d) => dayNames[d]).join(", ")))
    .join(", ");
}

export function describeAutostart(schedule: string | undefined | null): string {
  if (!schedule) return "Autostart is off.";
  const a = parseAutostart(schedule);
  if (!a) return `Starts on the schedule ${schedule}.`;
  return `Starts at ${pad(a.hour)}:${pad(a.minute)} on ${describeDays(a.days)} (${a.zone}).`;
}

export function describeTtl(ttlMs: number | undefined | null): string {
  if (!ttlMs) return "Autostop is off.";
  const hours = ttlMs / hourMs;
  return `Stops ${Number.isInteger(hours) ? hours : hours.toFixed(2)} hour${hours === 1 ? "" : "s"} after it starts.`;
}

// The browser's time zones, read once (the page re-renders on every watch message).
let knownZones: string[] | undefined;
function timeZones(current: string): string[] {
  knownZones ??= [...new Set([...Intl.supportedValuesOf("timeZone"), "UTC"])].sort();
  return knownZones.includes(current) ? knownZones : [current, ...knownZones];
}

interface FormValues {
  autostart: boolean;
  time: string;
  zone: string;
  days: Set<number>;
  autostop: boolean;
  hours: string;
}

function valuesOf(w: Workspace): FormValues {
  const localZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  const a = w.autostart_schedule ? parseAutostart(w.autostart_schedule) : null;
  return {
    autostart: Boolean(w.autostart_schedule),
    time: a ? `${pad(a.hour)}:${pad(a.minute)}` : "09:00",
    zone: a?.zone ?? localZone,
    days: a?.days ?? new Set([1, 2, 3, 4, 5]),
    autostop: Boolean(w.ttl_ms),
    hours: w.ttl_ms ? String(w.ttl_ms / hourMs) : "8",
  };
}

function ScheduleForm({ workspace }: { workspace: Workspace }) {
  const [values, setValues] = useState<FormValues>(() => valuesOf(workspace));
  const [dirty, setDirty] = useState(false);
  const [saved, setSaved] = useState(false);
  // Changes made elsewhere show here unless the form holds unsaved edits.
  useEffect(() => {
    if (!dirty) setValues(valuesOf(workspace));
  }, [workspace.autostart_schedule, workspace.ttl_ms]);

  const change = (patch: Partial<FormValues>) => {
    setValues({ ...values, ...patch });
    setDirty(true);
    setSaved(false);
  };
  const toggleDay = (day: number) => {
    const days = new Set(values.days);
    if (days.has(day)) days.delete(day);
    else days.add(day);
    change({ days });
  };

  const { submit: save, busy, error } = useSubmit(async () => {
    setSaved(false);
    let schedule: string | null = null;
    if (values.autostart) {
      const [h, m] = values.time.split(":").map(Number);
      if (h === undefined || m === undefined || isNaN(h) || isNaN(m)) throw invalid("schedule", "Choose a start time.");
      if (values.days.size === 0) throw invalid("schedule", "Choose at least one day.");
      schedule = formatAutostart({ zone: values.zone, hour: h, minute: m, days: values.days });
    }
    let ttl: number | null = null;
    if (values.autostop) {
      const hours = Number(values.hours);
      if (!(hours > 0)) throw invalid("ttl_ms", "Enter a number of hours above 0.");
      ttl = Math.round(hours * hourMs);
    }
    await api.put(`/workspaces/${seg(workspace.id)}/autostart`, { schedule });
    await api.put(`/workspaces/${seg(workspace.id)}/ttl`, { ttl_ms: ttl });
    setDirty(false);
    setSaved(true);
  });

  const scheduleError = error?.fieldDetail("schedule");
  const ttlError = error?.fieldDetail("ttl_ms");
  const otherError = error && !scheduleError && !ttlError ? error : undefined;
  return (
    <form class="card schedule-form" onSubmit={save} aria-label="Schedule">
      <p class="schedule-summary" data-testid="schedule-summary">
        {describeAutostart(workspace.autostart_schedule)} {describeTtl(workspace.ttl_ms)}
        {workspace.next_start_at && (
          <>
            {" "}
            Next start <RelativeTime at={workspace.next_start_at} />.
          </>
        )}
      </p>
      <label class="check">
        <input type="checkbox" checked={values.autostart} onChange={(e) => change({ autostart: e.currentTarget.checked })} />
        Enable autostart
      </label>
      <div class="schedule-row">
        <Field label="Start time" id="autostart-time">
          <input
            id="autostart-time"
            type="time"
            required={values.autostart}
            disabled={!values.autostart}
            value={values.time}
            onInput={(e) => change({ time: e.currentTarget.value })}
          />
        </Field>
        <Field label="Time zone" id="autostart-zone">
          <select
            id="autostart-zone"
            disabled={!values.autostart}
            value={values.zone}
            onChange={(e) => change({ zone: e.currentTarget.value })}
          >
            {timeZones(values.zone).map((z) => (
              <option key={z} value={z}>
                {z}
              </option>
            ))}
          </select>
        </Field>
      </div>
      <fieldset class="days" disabled={!values.autostart} aria-describedby={scheduleError ? "schedule-error" : undefined}>
        <legend>Days</legend>
        {dayOrder.map((d) => (
          <label class="check" key={d}>
            <input type="checkbox" checked={values.days.has(d)} onChange={() => toggleDay(d)} />
            {dayNames[d]}
          </label>
        ))}
      </fieldset>
      {scheduleError && (
        <p class="field-error" id="schedule-error" role="alert">
          {scheduleError}
        </p>
      )}
      <label class="check">
        <input type="checkbox" checked={values.autostop} onChange={(e) => change({ autostop: e.currentTarget.checked })} />
        Enable autostop
      </label>
      <Field label="Time until shutdown (hours)" id="autostop-hours" error={ttlError}>
        <input
          id="autostop-hours"
          type="number"
          min="0.5"
          step="0.5"
          inputMode="decimal"
          disabled={!values.autostop}
          value={values.hours}
          onInput={(e) => change({ hours: e.currentTarget.value })}
        />
      </Field>
      <ErrorAlert error={otherError} />
      <div class="actions">
        <button type="submit" class="primary" disabled={busy} aria-busy={busy}>
          Save schedule
        </button>
        {saved && (
          <span role="status" class="tone-ok">
            Schedule saved.
          </span>
        )}
      </div>
    </form>
  );
}

// Moves today's stop later by a number of hours (PUT /extend with the new deadline).
function ExtendStop({ workspace }: { workspace: Workspace }) {
  const [hours, setHours] = useState("1");
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [message, setMessage] = useState("");
  const deadline = workspace.latest_build.deadline;
  const has = deadline && new Date(deadline).getFullYear() > 2000;
  if (workspace.latest_build.status !== "running" || !has) return null;
  const extend = async () => {
    setError(undefined);
    setMessage("");
    const h = Number(hours);
    if (!(h > 0)) throw invalid("deadline", "Enter a number of hours above 0.");
    const next = new Date(new Date(deadline).getTime() + h * hourMs);
    const answer = await api.put<{ message?: string }>(`/workspaces/${seg(workspace.id)}/extend`, {
      deadline: next.toISOString(),
    });
    setMessage(answer?.message ?? "Deadline updated.");
  };
  return (
    <div class="card extend">
      <p>
        Stops <RelativeTime at={deadline} />
        {workspace.latest_build.max_deadline && new Date(workspace.latest_build.max_deadline).getFullYear() > 2000 && (
          <>
            {" "}
            (at the latest <RelativeTime at={workspace.latest_build.max_deadline} />)
          </>
        )}
        .
      </p>
      <div class="extend-row">
        <Field label="Extend today's stop by (hours)" id="extend-hours" error={error?.fieldDetail("deadline")}>
          <input
            id="extend-hours"
            type="number"
            min="1"
            step="1"
            value={hours}
            onInput={(e) => setHours(e.currentTarget.value)}
          />
        </Field>
        <ActionButton action={extend} onError={setError}>
          Extend
        </ActionButton>
      </div>
      {error && !error.fieldDetail("deadline") && <ErrorAlert error={error} />}
      {message && (
        <p role="status" class="tone-ok">
          {message}
        </p>
      )}
    </div>
  );
}

export function Schedule({ workspace }: { workspace: Workspace }) {
  return (
    <section aria-labelledby="schedule-title">
      <h2 id="schedule-title">Schedule</h2>
      <ExtendStop workspace={workspace} />
      <ScheduleForm workspace={workspace} />
    </section>
  );
}
