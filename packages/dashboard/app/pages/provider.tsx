// One provider: what it offers, how it has done, and its history of jobs and earnings.
import { useApi } from "../api.js";
import { Chart } from "../chart.js";
import { ago, credits, num, pct, time } from "../format.js";
import { Link } from "../router.js";
import { StatusBadge } from "./jobs.js";
import type { ProviderRow } from "./providers.js";

interface ProviderDetail extends Omit<ProviderRow, "models"> {
  firstSeenAt: number;
  models: { id: string; name: string; parameters: number }[];
  history: { bucketMs: number; buckets: { at: number; completed: number; failed: number; earned: string }[] };
  recentJobs: { id: string; status: string; cost: string | null; createdAt: number }[];
}

export function ProviderPage(props: { id: string }) {
  const { data, error } = useApi<ProviderDetail>(`/v1/explorer/providers/${props.id}`, {}, [props.id]);
  if (error) return <p class="error">{error.message}</p>;
  if (!data) return <p class="muted">Loading…</p>;
  const b = data.history.buckets;
  return (
    <div>
      <p>
        <Link href="/providers">← Providers</Link>
      </p>
      <h1>
        Provider <span class="mono small">{data.id}</span>
      </h1>
      <div class="stats">
        <div class="stat">
          <div class="label">Status</div>
          <div class="value">{data.online ? "online" : "offline"}</div>
        </div>
        <div class="stat">
          <div class="label">Region</div>
          <div class="value">{data.region}</div>
        </div>
        <div class="stat">
          <div class="label">Price</div>
          <div class="value">{data.pricePerUnit} nc/SU</div>
        </div>
        <div class="stat">
          <div class="label">Reputation</div>
          <div class="value">{pct(data.reputation)}</div>
        </div>
        <div class="stat">
          <div class="label">Jobs done / failed</div>
          <div class="value">
            {num(data.completed)} / {num(data.failed)}
          </div>
        </div>
        <div class="stat">
          <div class="label">Earnings (credits)</div>
          <div class="value">{credits(data.earnings)}</div>
        </div>
      </div>
      <dl class="facts">
        <dt>Runtimes</dt>
        <dd>{data.runtimes.join(", ")}</dd>
        <dt>Models</dt>
        <dd>{data.models.map((m) => `${m.name} (${num(m.parameters)} params)`).join(", ") || "—"}</dd>
        <dt>Capacity</dt>
        <dd>
          {data.load} running of {data.capacity} slots · measured {num(data.throughput)} SU/s
        </dd>
        <dt>First seen</dt>
        <dd>{time(data.firstSeenAt)}</dd>
        <dt>Last seen</dt>
        <dd>{data.online ? "now" : ago(data.lastSeenAt)}</dd>
        <dt>Stake</dt>
        <dd>{data.stake === null ? "none recorded (verification not yet recording stake)" : credits(data.stake)}</dd>
      </dl>
      <div class="grid two">
        <Chart
          title={`Jobs per ${data.history.bucketMs / 60000} min`}
          t={b.map((x) => x.at)}
          lines={[
            { label: "completed", values: b.map((x) => x.completed), color: "#16a34a" },
            { label: "failed", values: b.map((x) => x.failed), color: "#dc2626" },
          ]}
          format={(v) => v.toFixed(0)}
        />
        <Chart title="Billed (credits per bucket)" t={b.map((x) => x.at)} lines={[{ label: "billed", values: b.map((x) => Number(x.earned) / 1e9), color: "#d97706" }]} format={(v) => v.toFixed(6)} />
      </div>
      <h2>Recent jobs</h2>
      <table>
        <tbody>
          {data.recentJobs.map((j) => (
            <tr key={j.id}>
              <td>
                <Link href={`/jobs/${j.id}`} class="mono">
                  {j.id}
                </Link>
              </td>
              <td>
                <StatusBadge status={j.status} />
              </td>
              <td class="r">{credits(j.cost)}</td>
              <td class="r">{ago(j.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
