// The only way the browser talks to Skiff: Argo's REST API on the server that serves the page. A bearer
// token typed into the login box is kept in localStorage and sent as `Authorization: Bearer`; it is also
// set as Argo's `authorization` cookie so that plain links (artifact downloads) carry it.
import type { List, WatchEvent } from "./types.js";

const TOKEN_KEY = "skiff.token";

/** Thrown for a non-2xx answer; `status` is the HTTP status, `message` the server's `google.rpc.Status` text. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

type AuthListener = (needed: boolean) => void;
const authListeners = new Set<AuthListener>();

/** Calls `listener(true)` whenever the server answers 401, `listener(false)` when a token is set. */
export function onAuthNeeded(listener: AuthListener): () => void {
  authListeners.add(listener);
  return () => authListeners.delete(listener);
}

function signalAuth(needed: boolean): void {
  for (const l of authListeners) l(needed);
}

export function getToken(): string {
  try {
    return localStorage.getItem(TOKEN_KEY) ?? "";
  } catch {
    return "";
  }
}

/** Stores the token ("Bearer " is optional when typing it) and retries with it. */
export function setToken(raw: string): void {
  const token = raw.trim().replace(/^Bearer\s+/i, "");
  localStorage.setItem(TOKEN_KEY, token);
  const base = new URL(document.baseURI).pathname;
  document.cookie = token
    ? `authorization=${encodeURIComponent(`Bearer ${token}`)}; path=${base}; SameSite=Strict`
    : `authorization=; path=${base}; max-age=0; SameSite=Strict`;
  signalAuth(false);
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const token = getToken();
  return token ? { ...extra, Authorization: `Bearer ${token}` } : extra;
}

/** Resolves a server path (no leading slash) against the page's `<base href>`. */
export function apiUrl(path: string, query?: Record<string, string | undefined>): string {
  const url = new URL(path.replace(/^\//, ""), document.baseURI);
  for (const [k, v] of Object.entries(query ?? {}))
    if (v !== undefined && v !== "") url.searchParams.set(k, v);
  return url.toString();
}

async function failure(res: Response): Promise<ApiError> {
  if (res.status === 401) signalAuth(true);
  let message = res.statusText;
  try {
    const body = (await res.json()) as { message?: string };
    if (body.message) message = body.message;
  } catch {
    // Not JSON (a proxy's page): keep the status text.
  }
  return new ApiError(res.status, message || `HTTP ${res.status}`);
}

/** One JSON call. */
export async function request<T>(
  method: string,
  path: string,
  options: { query?: Record<string, string | undefined>; body?: unknown; signal?: AbortSignal } = {},
): Promise<T> {
  const res = await fetch(apiUrl(path, options.query), {
    method,
    headers: headers(options.body === undefined ? {} : { "Content-Type": "application/json" }),
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (!res.ok) throw await failure(res);
  const text = await res.text();
  return (text ? JSON.parse(text) : {}) as T;
}

export const get = <T>(path: string, query?: Record<string, string | undefined>, signal?: AbortSignal) =>
  request<T>("GET", path, { ...(query ? { query } : {}), ...(signal ? { signal } : {}) });

export const list = <T>(path: string, query?: Record<string, string | undefined>, signal?: AbortSignal) =>
  get<List<T>>(path, query, signal);

/** Handle of a running stream; `close()` stops it and its reconnects. */
export interface Stream {
  close(): void;
}

/**
 * Reads one of Argo's streams (watch, logs): each frame is `{"result": ...}`, newline-delimited or as
 * server-sent events. `fetch` rather than `EventSource`, because only fetch sends the bearer header.
 * A stream that fails or ends is reopened after `retryMs` (Argo's UI waits 3 s) unless `reconnect` is false.
 */
export function stream<T>(
  path: string,
  query: Record<string, string | undefined>,
  handlers: { onResult: (result: T) => void; onError?: (error: Error) => void; onEnd?: () => void },
  options: { reconnect?: boolean; retryMs?: number } = {},
): Stream {
  const controller = new AbortController();
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const open = async (): Promise<void> => {
    try {
      const res = await fetch(apiUrl(path, query), { headers: headers(), signal: controller.signal });
      if (!res.ok || !res.body) throw await failure(res);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        // Look for the end of a frame in the new text only: a 10,000-node workflow is one line of megabytes.
        let from = buffer.length;
        buffer += value;
        let nl: number;
        while ((nl = buffer.indexOf("\n", from)) >= 0) {
          handleLine(buffer.slice(0, nl).trim());
          buffer = buffer.slice(nl + 1);
          from = 0;
        }
      }
      if (buffer.trim()) handleLine(buffer.trim());
      handlers.onEnd?.();
    } catch (error) {
      if (closed) return;
      handlers.onError?.(error as Error);
      if (error instanceof ApiError && error.status === 401) return;
    }
    if (!closed && options.reconnect !== false)
      timer = setTimeout(() => void open(), options.retryMs ?? 3000);
  };
  const handleLine = (raw: string): void => {
    const line = raw.startsWith("data:") ? raw.slice(5).trim() : raw;
    if (!line || line.startsWith(":")) return;
    const frame = JSON.parse(line) as { result?: T; error?: { message?: string } };
    if (frame.error) throw new ApiError(500, frame.error.message ?? "stream error");
    if (frame.result !== undefined) handlers.onResult(frame.result);
  };
  void open();
  return {
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      controller.abort();
    },
  };
}

/** Watches `workflow-events/{ns}` (Argo's WatchWorkflows). */
export function watchWorkflows<T>(
  namespace: string,
  query: Record<string, string | undefined>,
  onEvent: (event: WatchEvent<T>) => void,
): Stream {
  return stream<WatchEvent<T>>(`api/v1/workflow-events/${encodeURIComponent(namespace)}`, query, {
    onResult: onEvent,
  });
}
