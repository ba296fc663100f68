// Talks to the gateway's explorer API (same origin) and its live event stream.
import { useEffect, useState } from "preact/hooks";

const KEY = "tessera.apiKey";

export function apiKey(): string | null {
  return localStorage.getItem(KEY);
}
export function setApiKey(key: string | null): void {
  if (key) localStorage.setItem(KEY, key);
  else localStorage.removeItem(KEY);
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function api<T>(path: string, params: Record<string, string | number | undefined> = {}): Promise<T> {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") qs.set(k, String(v));
  const key = apiKey();
  const res = await fetch(`${path}${qs.size ? `?${qs}` : ""}`, {
    headers: key ? { authorization: `Bearer ${key}` } : {},
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, body?.error?.message ?? `HTTP ${res.status}`);
  return body as T;
}

/** Loads `path` and reloads it when `deps` change; `reload` refetches by hand. */
export function useApi<T>(
  path: string | null,
  params: Record<string, string | number | undefined> = {},
  deps: unknown[] = [],
) {
  const [state, setState] = useState<{ data?: T; error?: ApiError | Error; loading: boolean }>({ loading: true });
  const [n, setN] = useState(0);
  useEffect(() => {
    if (!path) return;
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    api<T>(path, params).then(
      (data) => live && setState({ data, loading: false }),
      (error: Error) => live && setState({ error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [path, n, ...deps]);
  return { ...state, reload: () => setN((x) => x + 1) };
}

type Listener = (event: string, data: unknown) => void;
const listeners = new Set<Listener>();
let source: EventSource | null = null;
let connected = false;
const statusListeners = new Set<(up: boolean) => void>();

function ensureSource(): void {
  if (source) return;
  source = new EventSource("/v1/explorer/stream");
  source.onopen = () => {
    connected = true;
    for (const l of statusListeners) l(true);
  };
  source.onerror = () => {
    connected = false;
    for (const l of statusListeners) l(false);
  };
  for (const ev of ["sample", "jobs"])
    source.addEventListener(ev, (e) => {
      const data = JSON.parse((e as MessageEvent).data);
      for (const l of listeners) l(ev, data);
    });
}

/** Subscribes to the gateway's live events for the life of the component. */
export function useLive(listener: Listener): void {
  useEffect(() => {
    ensureSource();
    listeners.add(listener);
    return () => listeners.delete(listener);
  }, [listener]);
}

export function useLiveStatus(): boolean {
  const [up, setUp] = useState(connected);
  useEffect(() => {
    ensureSource();
    statusListeners.add(setUp);
    return () => statusListeners.delete(setUp);
  }, []);
  return up;
}
