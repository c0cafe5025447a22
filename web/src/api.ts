// The dashboard's one door to the API: same-origin requests carrying the session cookie
// (coder_session_token, set by POST /users/login), and Coder's error body made an Error.

export interface Validation {
  field: string;
  detail: string;
}

// An answer other than 2xx, with what the API said about it.
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly detail: string,
    readonly validations: Validation[],
  ) {
    super(message);
  }

  // The detail the API gave for one form field, if any.
  fieldDetail(field: string): string | undefined {
    return this.validations.find((v) => v.field === field)?.detail;
  }
}

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

async function request<T>(method: Method, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method, credentials: "same-origin", headers: {} };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)["Content-Type"] = "application/json";
  }
  let response: Response;
  try {
    response = await fetch("/api/v2" + path, init);
  } catch (e) {
    throw new ApiError(0, "The server could not be reached.", String(e), []);
  }
  const text = await response.text();
  let parsed: unknown = undefined;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
  }
  if (!response.ok) {
    const e = (parsed ?? {}) as { message?: string; detail?: string; validations?: Validation[] };
    throw new ApiError(
      response.status,
      e.message ?? `${method} ${path}: ${response.status} ${response.statusText}`,
      e.detail ?? (parsed === undefined ? text.slice(0, 500) : ""),
      e.validations ?? [],
    );
  }
  return parsed as T;
}

export const api = {
  get: <T>(path: string) => request<T>("GET", path),
  post: <T>(path: string, body?: unknown) => request<T>("POST", path, body ?? {}),
  put: <T>(path: string, body?: unknown) => request<T>("PUT", path, body ?? {}),
  patch: <T>(path: string, body?: unknown) => request<T>("PATCH", path, body ?? {}),
  delete: <T>(path: string) => request<T>("DELETE", path),
};

// A WebSocket to an API path on this server (the cookie authenticates it).
export function openSocket(path: string): WebSocket {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return new WebSocket(`${scheme}//${location.host}/api/v2${path}`);
}

// Percent-encodes one path segment.
export const seg = encodeURIComponent;
