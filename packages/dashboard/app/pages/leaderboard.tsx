// Compute leaderboard: providers compared like for like, by work in standard units.
import { useApi } from "../api.js";
import { ms, num, pct, short } from "../format.js";
import { Link } from "../router.js";

interface Row {
  provider: string;
  region: string | null;
  online: boolean;
  jobs: number;
  standardUnits: number;
  unitsPerSecond: number | null;
  pricePerUnit: number | null;
  listedPricePerUnit: number | null;
  auditPassRate: number | null;
  auditsPassed: number;
  auditsFailed: number;
  avgLatencyMs: number;
}

export function LeaderboardPage() {
  const { data, error } = useApi<{ data: Row[]; auditsRecorded: boolean }>("/v1/explorer/leaderboard");
  if (error) return <p class="error">{error.message}</p>;
  return (
    <div>
      <h1>Compute leaderboard</h1>
      <p class="muted">
        Every job is metered in standard units (1 SU = 10⁶ floating-point operations), so providers compare like for like whatever the model or runtime. Speed is SU
        delivered per second of lease time; price is what consumers actually paid per SU; the audit pass rate is the share of decided audits of the
        provider's results that passed (a failed one slashed it). Top 100 by work done.
      </p>
      <table data-testid="leaderboard">
        <thead>
          <tr>
            <th>#</th>
            <th>Provider</th>
            <th>Region</th>
            <th class="r">Jobs</th>
            <th class="r">Work (SU)</th>
            <th class="r">Speed (SU/s)</th>
            <th class="r">Paid per SU</th>
            <th class="r">Audit pass rate</th>
            <th class="r">Avg latency</th>
          </tr>
        </thead>
        <tbody>
          {(data?.data ?? []).map((r, i) => (
            <tr key={r.provider}>
              <td>{i + 1}</td>
              <td>
                <Link href={`/providers/${r.provider}`} class="mono">
                  {short(r.provider, 12)}
                </Link>{" "}
                {r.online ? <span class="badge completed">online</span> : null}
              </td>
              <td>{r.region ?? "—"}</td>
              <td class="r">{num(r.jobs)}</td>
              <td class="r">{num(r.standardUnits)}</td>
              <td class="r">{num(r.unitsPerSecond)}</td>
              <td class="r">{r.pricePerUnit === null ? "—" : `${r.pricePerUnit.toFixed(1)} nc`}</td>
              <td class="r" data-testid="audit-pass-rate" data-rate={r.auditPassRate ?? ""} title={`${r.auditsPassed} passed, ${r.auditsFailed} failed`}>
                {r.auditPassRate === null ? (
                  <span class="muted">no audits yet</span>
                ) : (
                  <>
                    {pct(r.auditPassRate)} <span class="muted small">of {r.auditsPassed + r.auditsFailed}</span>
                  </>
                )}
              </td>
              <td class="r">{ms(r.avgLatencyMs)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {data && data.data.length === 0 ? <p class="muted">No completed jobs yet.</p> : null}
    </div>
  );
}
