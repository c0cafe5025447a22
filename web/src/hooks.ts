// Hooks the pages share: loading data, running actions and forms, and following watch streams.
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { api, ApiError, openSocket, seg } from "./api";
import type { Workspace } from "./types";

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload: () => void;
  set: (data: T) => void;
}

// Runs `load` now and whenever `deps` change; a stale answer never overwrites a newer one.
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const generation = useRef(0);
  const run = useCallback(() => {
    const mine = ++generation.current;
    setLoading(true);
    load().then(
      (d) => {
        if (mine !== generation.current) return;
        setData(d);
        setError(undefined);
        setLoading(false);
      },
      (e: unknown) => {
        if (mine !== generation.current) return;
        setError(toApiError(e));
        setLoading(false);
      },
    );
  }, deps);
  useEffect(() => {
    run();
    return () => void ++generation.current;
  }, [run]);
  return { data, error, loading, reload: run, set: setData };
}

export interface Action<A extends unknown[]> {
  // Runs the action; resolves to its error (also kept in `error`), or undefined.
  run: (...args: A) => Promise<ApiError | undefined>;
  busy: boolean;
  error: ApiError | undefined;
  setError: (e: ApiError | undefined) => void;
}

// An action a person starts (a button, a form): busy while it runs, its failure kept as the
// API's error for the place that shows it. A new run clears the last error.
export function useAction<A extends unknown[]>(action: (...args: A) => Promise<unknown>): Action<A> {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const latest = useRef(action);
  latest.current = action;
  const run = useCallback(async (...args: A) => {
    setBusy(true);
    setError(undefined);
    try {
      await latest.current(...args);
      return undefined;
    } catch (e) {
      const failure = toApiError(e);
      setError(failure);
      return failure;
    } finally {
      setBusy(false);
    }
  }, []);
  return { run, busy, error, setError };
}

// A form's submit handler around `action` (see useAction); checks that find the input
// wanting throw an ApiError with validations, which then land on their fields.
export function useSubmit(action: () => Promise<unknown>) {
  const { run, busy, error, setError } = useAction(action);
  const submit = (e?: Event) => {
    e?.preventDefault();
    return run();
  };
  return { submit, busy, error, setError };
}

export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  return new ApiError(0, e instanceof Error ? e.message : String(e), "", []);
}

// Follows one of the API's watch streams (Coder's OneWayWebSocket framing: a JSON
// `{type, data}` per message): `onData` gets every `data`; a dropped stream reconnects after a
// pause. No path, no stream.
export function useWatch<T>(path: string | undefined, onData: (data: T) => void) {
  const callback = useRef(onData);
  callback.current = onData;
  useEffect(() => {
    if (!path) return;
    let socket: WebSocket | undefined;
    let closed = false;
    let retry: ReturnType<typeof setTimeout> | undefined;
    const connect = () => {
      socket = openSocket(path);
      socket.onmessage = (event) => {
        try {
          const message = JSON.parse(String(event.data)) as { type: string; data?: T };
          if (message.type === "data" && message.data !== undefined) callback.current(message.data);
        } catch {
          // A frame that is not JSON carries no data; the next one will.
        }
      };
      socket.onclose = () => {
        if (!closed) retry = setTimeout(connect, 2000);
      };
    };
    connect();
    return () => {
      closed = true;
      if (retry) clearTimeout(retry);
      socket?.close();
    };
  }, [path]);
}

// Follows one workspace live over /workspaces/{id}/watch-ws: `onChange` gets every new state.
export function useWorkspaceWatch(id: string | undefined, onChange: (w: Workspace) => void) {
  useWatch(id ? `/workspaces/${id}/watch-ws` : undefined, onChange);
}

// One workspace by owner and name, loaded once and then followed on its watch stream.
export function useLiveWorkspace(owner: string, name: string): { workspace: Workspace | undefined; loaded: Loaded<Workspace> } {
  const loaded = useLoad(() => api.get<Workspace>(`/users/${seg(owner)}/workspace/${seg(name)}`), [owner, name]);
  // The watch stream's newest state of this workspace, which wins over the first load.
  const [live, setLive] = useState<Workspace | undefined>(undefined);
  useWorkspaceWatch(loaded.data?.id, setLive);
  return { workspace: live && live.id === loaded.data?.id ? live : loaded.data, loaded };
}
