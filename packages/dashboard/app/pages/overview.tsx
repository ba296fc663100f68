// Overview: the network over the last hour, live — each measure as a time-series chart.
import { useCallback, useEffect, useState } from "preact/hooks";
import { api, useApi, useLive } from "../api.js";
import { Chart } from "../chart.js";
import { num } from "../format.js";

type Series = Record<string, (number | null)[]> & { t: number[] };
interface Overview {
  intervalMs: number;
  windowMs: number;
  providersOnline: number;
  queueDepth: number;
  running: number;
  jobs: Record<string, number>;
  auditsRecorded: boolean;
  series: Series;
}

const COUNTS_EVERY_MS = 5_000;

const C = { blue: "#2563eb", green: "#16a34a", red: "#dc2626", amber: "#d97706", violet: "#7c3aed", teal: "#0d9488" };

export function OverviewPage() {
  const { data, error } = useApi<Overview>("/v1/explorer/overview");
  const [series, setSeries] = useState<Series | null>(null);
  // the all-time counts are no time series: read again every few seconds, without the samples
  const [jobs, setJobs] = useState<Record<string, number> | null>(null);
  useEffect(() => {
    const timer = setInterval(() => {
      api<Omit<Overview, "series">>("/v1/explorer/overview", { series: "false" }).then(
        (o) => setJobs(o.jobs),
        () => {},
      );
    }, COUNTS_EVERY_MS);
    return () => clearInterval(timer);
  }, []);
  const [now, setNow] = useState<{ providersOnline: number; queueDepth: number; running: number } | null>(null);
  useEffect(() => {
    if (data) {
      setSeries(data.series);
      setNow(data);
    }
  }, [data]);
  const onLive = useCallback(
    (event: string, d: unknown) => {
      if (event !== "sample") return;
      const s = d as Record<string, number | null> & { t: number };
      setNow({ providersOnline: s.providersOnline ?? 0, queueDepth: s.queueDepth ?? 0, running: s.running ?? 0 });
      setSeries((prev) => {
        if (!prev) return prev;
        const cutoff = s.t - (data?.windowMs ?? 3_600_000);
        const keep = prev.t.findIndex((t) => t > cutoff);
        const from = keep < 0 ? prev.t.length : keep;
        const next: Series = { t: [...prev.t.slice(from), s.t] };
        for (const k of Object.keys(prev)) if (k !== "t") next[k] = [...(prev[k] ?? []).slice(from), s[k] ?? null];
        return next;
      });
    },
    [data],
  );
  useLive(onLive);

  if (error) return <p class="error">Could not load the overview: {error.message}</p>;
  if (!data || !series) return <p class="muted">Loading…</p>;
  const t = series.t;
  const s = (k: string) => series[k] ?? [];
  const perCredit = (v: number) => (v / 1e9 >= 0.01 ? (v / 1e9).toFixed(3) : (v / 1e9).toExponential(1));
  const audits = data.auditsRecorded || s("auditsPassed").some((v) => v !== null);
  const counts = jobs ?? data.jobs;
  const total = Object.values(counts).reduce((a, b) => a + b, 0);

  return (
    <div>
      <h1>Network overview</h1>
      <p class="muted">
        Live, sampled every {data.intervalMs / 1000} s over the last {Math.round(data.windowMs / 60000)} minutes since this gateway started. {t.length} samples.
      </p>
      <div class="stats">
        <Stat label="Providers online" value={num(now?.providersOnline)} testid="stat-providers" />
        <Stat label="Queued" value={num(now?.queueDepth)} />
        <Stat label="Running" value={num(now?.running)} />
        <Stat label="Jobs (all time)" value={num(total)} />
        <Stat label="Completed" value={num(counts.completed)} testid="stat-completed" />
        <Stat label="Failed" value={num(counts.failed)} />
      </div>
      <div class="grid">
        <Chart title="Providers online" t={t} lines={[{ label: "online", values: s("providersOnline"), color: C.blue }]} counts />
        <Chart
          title="Jobs per second"
          t={t}
          lines={[
            { label: "completed", values: s("jobsPerSec"), color: C.green },
            { label: "failed", values: s("failedPerSec"), color: C.red },
          ]}
          unit="/s"
        />
        <Chart
          title="Queue depth"
          t={t}
          lines={[
            { label: "queued", values: s("queueDepth"), color: C.amber },
            { label: "running", values: s("running"), color: C.violet },
          ]}
          counts
        />
        <Chart title="Tokens per second" t={t} lines={[{ label: "tokens", values: s("tokensPerSec"), color: C.teal }]} unit="tok/s" />
        <Chart title="Compute (standard units per second)" t={t} lines={[{ label: "SU/s", values: s("unitsPerSec"), color: C.violet }]} unit="SU/s" />
        <Chart
          title="Latency, submit to result"
          t={t}
          lines={[
            { label: "p50", values: s("p50Ms"), color: C.blue },
            { label: "p99", values: s("p99Ms"), color: C.red },
          ]}
          unit="ms"
          format={(v) => v.toFixed(0)}
        />
        <Chart
          title="Spend and earnings (credits per second)"
          t={t}
          lines={[
            { label: "consumers spent", values: s("spendPerSec"), color: C.amber },
            { label: "providers earned", values: s("earningsPerSec"), color: C.green },
          ]}
          format={perCredit}
        />
        {audits ? (
          <Chart
            title="Audits"
            t={t}
            lines={[
              { label: "passed", values: s("auditsPassed"), color: C.green },
              { label: "failed (slashed)", values: s("auditsFailed"), color: C.red },
            ]}
            counts
          />
        ) : (
          <section class="card chart empty" data-chart="Audits">
            <header>
              <h3>Audits</h3>
            </header>
            <p class="muted">No audits: this gateway does not record audits (verification is not running).</p>
          </section>
        )}
      </div>
    </div>
  );
}

export function Stat(props: { label: string; value: string; testid?: string; tone?: "good" | "bad" }) {
  return (
    <div class={`stat ${props.tone ?? ""}`} data-testid={props.testid}>
      <div class="label">{props.label}</div>
      <div class="value">{props.value}</div>
    </div>
  );
}
