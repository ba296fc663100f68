// Jobs: every job on the network, newest first, filterable, updating live as jobs change.
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { api, apiKey, useApi, useLive } from "../api.js";
import { ago, credits, num, short } from "../format.js";
import { Link, navigate, useLocation } from "../router.js";

export interface JobRow {
  id: string;
  status: string;
  runtime: string;
  target: string | null;
  /** null unless it is you (your API key) or you hold the admin key: consumers are private */
  consumer: string | null;
  provider: string | null;
  attempts: number;
  cost: string | null;
  standardUnits: number | null;
  createdAt: number;
  finishedAt: number | null;
}

export function StatusBadge(props: { status: string }) {
  return <span class={`badge ${props.status}`}>{props.status}</span>;
}

export function JobsTable(props: { jobs: JobRow[]; showConsumer?: boolean }) {
  return (
    <table data-testid="jobs-table">
      <thead>
        <tr>
          <th>Job</th>
          <th>Status</th>
          <th>Runtime</th>
          <th>Provider</th>
          {props.showConsumer === false ? null : <th>Consumer</th>}
          <th class="r">Attempts</th>
          <th class="r">SU</th>
          <th class="r">Cost (credits)</th>
          <th class="r">Submitted</th>
          <th class="r">Took</th>
        </tr>
      </thead>
      <tbody>
        {props.jobs.map((j) => (
          <tr key={j.id} data-job={j.id} data-status={j.status}>
            <td>
              <Link href={`/jobs/${j.id}`} class="mono">
                {short(j.id, 22)}
              </Link>
            </td>
            <td>
              <StatusBadge status={j.status} />
            </td>
            <td>{j.runtime}</td>
            <td>{j.provider ? <Link href={`/providers/${j.provider}`} class="mono">{short(j.provider)}</Link> : "—"}</td>
            {props.showConsumer === false ? null : <td class="mono">{j.consumer ? short(j.consumer, 12) : <span class="muted" title="consumers are private">private</span>}</td>}
            <td class="r">{j.attempts}</td>
            <td class="r">{num(j.standardUnits)}</td>
            <td class="r">{credits(j.cost)}</td>
            <td class="r">{ago(j.createdAt)}</td>
            <td class="r">{j.finishedAt ? `${((j.finishedAt - j.createdAt) / 1000).toFixed(2)} s` : "—"}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const STATUSES = ["", "queued", "running", "completed", "failed", "cancelled"];

const PAGE = 50;

/** The list's order, as the explorer pages it: newest first, then by id. */
function newerFirst(a: JobRow, b: JobRow): number {
  return b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

interface Shown {
  rows: JobRow[];
  /** more jobs after the last row shown: "Older →" pages on from that row */
  more: boolean;
}

export function JobsPage() {
  const { query } = useLocation();
  const f = {
    status: query.get("status") ?? "",
    runtime: query.get("runtime") ?? "",
    provider: query.get("provider") ?? "",
    q: query.get("q") ?? "",
    cursor: query.get("cursor") ?? "",
  };
  const key = JSON.stringify(f);
  const { data, error } = useApi<{ data: JobRow[]; hasMore: boolean; nextCursor: string | null }>("/v1/explorer/jobs", { ...f, limit: PAGE }, [key]);
  const [shown, setShown] = useState<Shown>({ rows: [], more: false });
  const [search, setSearch] = useState(f.q);
  useEffect(() => setShown({ rows: data?.data ?? [], more: !!data?.hasMore }), [data]);
  const current = useRef(shown);
  current.current = shown;

  // The live feed is public: it never names consumers. Rows fetched with your key keep the
  // consumer they were shown with, and new rows learn theirs from one refetch with the key.
  const owners = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(owners.current), [key]);
  const learnOwners = () => {
    clearTimeout(owners.current);
    owners.current = setTimeout(() => {
      api<{ data: JobRow[] }>("/v1/explorer/jobs", { ...f, limit: PAGE }).then(
        (page) => {
          const mine = new Map(page.data.filter((j) => j.consumer).map((j) => [j.id, j.consumer]));
          if (mine.size === 0) return;
          setShown((s) => ({ ...s, rows: s.rows.map((r) => (r.consumer || !mine.has(r.id) ? r : { ...r, consumer: mine.get(r.id) ?? null })) }));
        },
        () => {},
      );
    }, 300);
  };

  const onLive = useCallback(
    (event: string, d: unknown) => {
      if (event !== "jobs") return;
      const changed = (d as { jobs: JobRow[] }).jobs;
      const matches = (j: JobRow) =>
        (!f.status || j.status === f.status) &&
        (!f.runtime || j.runtime === f.runtime) &&
        (!f.provider || j.provider === f.provider) &&
        (!f.q || j.id.startsWith(f.q));
      // a job belongs on this page only if it sorts before the last row shown (unless nothing follows
      // it): an older one that changed is on a later page, and "Older →" pages on from the last row
      const fresh = (s: Shown) => {
        if (f.cursor) return [];
        const known = new Set(s.rows.map((r) => r.id));
        const last = s.rows.at(-1);
        return changed.filter((j) => !known.has(j.id) && matches(j) && (!s.more || !last || newerFirst(j, last) < 0));
      };
      if (apiKey() && fresh(current.current).length > 0) learnOwners();
      setShown((s) => {
        const byId = new Map(changed.map((j) => [j.id, j]));
        const next = s.rows.map((r) => {
          const u = byId.get(r.id);
          return u ? { ...u, consumer: u.consumer ?? r.consumer } : r;
        });
        next.push(...fresh(s));
        next.sort(newerFirst);
        return { rows: next.slice(0, PAGE), more: s.more || next.length > PAGE };
      });
    },
    [key],
  );
  useLive(onLive);

  const go = (p: Partial<typeof f>) => {
    const q = new URLSearchParams({ ...f, cursor: "", ...p });
    for (const [k, v] of [...q]) if (!v) q.delete(k);
    navigate(`/jobs${q.size ? `?${q}` : ""}`);
  };

  return (
    <div>
      <h1>Jobs</h1>
      <form
        class="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          go({ q: search.trim() });
        }}
      >
        <input type="search" placeholder="Job id or its beginning (job_…)" value={search} onInput={(e) => setSearch((e.target as HTMLInputElement).value)} aria-label="Search jobs by id" />
        <select aria-label="Status" value={f.status} onChange={(e) => go({ status: (e.target as HTMLSelectElement).value })}>
          {STATUSES.map((s) => (
            <option value={s} key={s}>
              {s || "any status"}
            </option>
          ))}
        </select>
        <select aria-label="Runtime" value={f.runtime} onChange={(e) => go({ runtime: (e.target as HTMLSelectElement).value })}>
          <option value="">any runtime</option>
          <option value="llm">llm</option>
          <option value="wasm">wasm</option>
        </select>
        {f.provider ? (
          <button type="button" onClick={() => go({ provider: "" })}>
            provider {short(f.provider)} ✕
          </button>
        ) : null}
        <button type="submit">Search</button>
      </form>
      {error ? <p class="error">{error.message}</p> : null}
      <JobsTable jobs={shown.rows} />
      {data && shown.rows.length === 0 ? <p class="muted">No jobs match.</p> : null}
      <div class="pager">
        {f.cursor ? (
          <button type="button" onClick={() => go({ cursor: "" })}>
            ← Newest
          </button>
        ) : (
          <span class="muted">Updating live</span>
        )}
        {shown.more && shown.rows.length > 0 ? (
          <button type="button" onClick={() => go({ cursor: shown.rows.at(-1)?.id ?? "" })}>
            Older →
          </button>
        ) : null}
      </div>
    </div>
  );
}
