// Log lines, of a provisioner job (a build, a template import) or of an agent: read at once, or
// followed live over the API's `?follow` WebSocket; and shown in one scrolling box, grouped
// under their stage or source.
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { api, ApiError, openSocket } from "./api";
import { toApiError } from "./hooks";

export interface LogLine {
  id: number;
  output: string;
}

export interface LogStreamOptions {
  // The logs' API path: a GET answers every line; `?<followQuery>&after=<id>` follows them.
  path: string;
  follow: boolean;
  followQuery: "follow" | "follow=true";
  // Whether a followed stream the server closed is opened again (after the last line it
  // delivered); else `onEnd` is told the stream is over.
  resume: (event: CloseEvent) => boolean;
  interrupted: string; // shown while a resumed stream reconnects
  onEnd?: () => void;
}

export interface LogStream<T> {
  logs: T[];
  error: ApiError | undefined;
  loading: boolean; // the one GET has not answered yet
}

// The lines at `options.path`. A follow message holds one line (provisioner jobs) or an array
// of them (agents). Starts over when the path or `follow` changes.
export function useLogStream<T extends LogLine>(options: LogStreamOptions): LogStream<T> {
  const [logs, setLogs] = useState<T[]>([]);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [loading, setLoading] = useState(!options.follow);
  // The close handler reads the caller's newest `resume` and `onEnd`.
  const latest = useRef(options);
  latest.current = options;
  const { path, follow, followQuery } = options;

  useEffect(() => {
    setLogs([]);
    setError(undefined);
    setLoading(!follow);
    let closed = false;
    let socket: WebSocket | undefined;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let lastId = 0;
    const connect = () => {
      socket = openSocket(`${path}?${followQuery}&after=${lastId}`);
      socket.onopen = () => setError(undefined);
      socket.onmessage = (event) => {
        let batch: T[];
        try {
          const parsed = JSON.parse(String(event.data)) as T | T[];
          batch = Array.isArray(parsed) ? parsed : [parsed];
        } catch {
          return; // not log lines (a keep-alive): nothing to show
        }
        if (batch.length === 0) return;
        lastId = Math.max(lastId, ...batch.map((l) => l.id));
        setLogs((previous) => [...previous, ...batch]);
      };
      socket.onclose = (event) => {
        if (closed) return;
        if (!latest.current.resume(event)) {
          latest.current.onEnd?.();
          return;
        }
        setError(new ApiError(0, latest.current.interrupted, "", []));
        retry = setTimeout(connect, 2000);
      };
    };
    if (follow) connect();
    else
      api.get<T[] | null>(path).then(
        (lines) => {
          if (closed) return;
          setLogs(lines ?? []);
          setLoading(false);
        },
        (e: unknown) => {
          if (closed) return;
          setError(toApiError(e));
          setLoading(false);
        },
      );
    return () => {
      closed = true;
      if (retry) clearTimeout(retry);
      socket?.close();
    };
  }, [path, follow, followQuery]);

  return { logs, error, loading };
}

// Consecutive lines of one group (a stage, a source), in the order they were written.
function groupLines<T>(lines: T[], groupOf: (line: T) => string): { group: string; lines: T[] }[] {
  const groups: { group: string; lines: T[] }[] = [];
  for (const line of lines) {
    const last = groups[groups.length - 1];
    const group = groupOf(line);
    if (last && last.group === group) last.lines.push(line);
    else groups.push({ group, lines: [line] });
  }
  return groups;
}

// The lines in a box that keeps the newest in view while they come, unless the reader
// scrolled up; each group under its heading, each line colored by its level.
export function LogView<T extends LogLine>(props: {
  lines: T[];
  label: string;
  live: boolean;
  empty: string;
  class?: string;
  group: (line: T) => string;
  heading: (group: string) => string;
  level: (line: T) => string;
  children?: ComponentChildren; // after the lines (a job's error)
}) {
  const box = useRef<HTMLDivElement>(null);
  const pinned = useRef(true);
  useEffect(() => {
    const el = box.current;
    if (el && pinned.current) el.scrollTop = el.scrollHeight;
  }, [props.lines.length]);
  return (
    <div
      class={"logs" + (props.class ? " " + props.class : "")}
      ref={box}
      role="log"
      tabIndex={0}
      aria-label={props.label}
      aria-live={props.live ? "polite" : "off"}
      onScroll={(e) => {
        const el = e.currentTarget;
        pinned.current = el.scrollTop + el.clientHeight >= el.scrollHeight - 8;
      }}
    >
      {props.lines.length === 0 && <p class="muted">{props.empty}</p>}
      {groupLines(props.lines, props.group).map((g, i) => (
        <div class="log-stage" key={`${i}-${g.group}`}>
          <div class="stage">{props.heading(g.group)}</div>
          {g.lines.map((line) => (
            <div key={line.id} class={`line ${props.level(line)}`}>
              {line.output}
            </div>
          ))}
        </div>
      ))}
      {props.children}
    </div>
  );
}
