// Data loading for pages: one request, its result or its error, and a way to load it again.
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { ApiError, openSocket } from "./api";
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

export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  return new ApiError(0, e instanceof Error ? e.message : String(e), "", []);
}

// Follows one workspace live over /workspaces/{id}/watch-ws (Coder's watch stream): `onChange`
// gets every new state; a dropped stream reconnects after a pause.
export function useWorkspaceWatch(id: string | undefined, onChange: (w: Workspace) => void) {
  const callback = useRef(onChange);
  callback.current = onChange;
  useEffect(() => {
    if (!id) return;
    let socket: WebSocket | undefined;
    let closed = false;
    let retry: ReturnType<typeof setTimeout> | undefined;
    const connect = () => {
      socket = openSocket(`/workspaces/${id}/watch-ws`);
      socket.onmessage = (event) => {
        try {
          const message = JSON.parse(String(event.data)) as { type: string; data?: Workspace };
          if (message.type === "data" && message.data) callback.current(message.data);
        } catch {
          // A frame that is not JSON is not a state; the next one will be.
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
  }, [id]);
}
