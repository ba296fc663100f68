// One provider: what it offers, how it has done, its stake and slashes, and its history of jobs
// and earnings.
import { useApi } from "../api.js";
import { Chart } from "../chart.js";
import { ago, credits, num, pct, time } from "../format.js";
import { Link } from "../router.js";
import { StatusBadge } from "./jobs.js";
import type { ProviderRow } from "./providers.js";

interface Slash {
  jobId: string | null;
  auditId: string | null;
  /** "verifier": the node, as a verifier, judged a canary against its known answer (no job of its own) */
  kind: "sampled" | "canary" | "verifier" | null;
  at: number;
  amount: string;
  refunded: string;
  rewarded: string;
  burned: string;
  reporters: string[];
}
/** --settlement evm: a slash sent to the Slashing contract and the split its ProviderSlashed log reported */
interface ChainSlash {
  auditId: string;
  jobId: string;
  status: "pending" | "slashed" | "used" | "failed";
  tx: string | null;
  taken: string | null;
  refund: string | null;
  reward: string | null;
  burned: string | null;
  error: string | null;
  createdAt: number;
}
interface ProviderDetail extends Omit<ProviderRow, "models"> {
  firstSeenAt: number;
  models: { id: string; name: string; parameters: number }[];
  unbondings: { id: string; amount: string; releaseAt: number }[];
  audits: { passed: number; failed: number; pending: number; passRate: number | null };
  slashes: { count: number; total: string; data: Slash[] };
  chainSlashes?: ChainSlash[];
  registry?: { address: string | null; unbondReadyAt: number | null; frozenUntil: number | null };
  history: { bucketMs: number; buckets: { at: number; completed: number; failed: number; earned: string }[] };
  recentJobs: { id: string; status: string; cost: string | null; createdAt: number }[];
}

export function ProviderPage(props: { id: string }) {
  const { data, error } = useApi<ProviderDetail>(`/v1/explorer/providers/${encodeURIComponent(props.id)}`, {}, [props.id]);
  if (error) return <p class="error">{error.message}</p>;
  if (!data) return <p class="muted">Loading…</p>;
  const b = data.history.buckets;
  // on chain the ledger takes no stake: the contract's slashes are the ones that count
  const slashed = data.chainSlashes ? chainTotal(data.chainSlashes) : data.slashes;
  return (
    <div>
      <p>
        <Link href="/providers">← Providers</Link>
      </p>
      <h1>
        Provider <span class="mono small">{data.id}</span>
        {data.excluded ? (
          <span class="badge failed" data-testid="excluded">
            excluded
          </span>
        ) : null}
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
        <div class="stat" data-testid="stake" data-amount={data.stake ?? ""}>
          <div class="label">Stake (credits)</div>
          <div class="value">{credits(data.stake)}</div>
        </div>
        <div class="stat" data-testid="unbonding" data-amount={data.unbonding ?? ""}>
          <div class="label">Unbonding (credits)</div>
          <div class="value">{credits(data.unbonding)}</div>
        </div>
        <div class="stat" data-testid="audit-pass-rate">
          <div class="label">Audits passed</div>
          <div class="value">{data.audits.passRate === null ? "—" : pct(data.audits.passRate)}</div>
          <div class="muted small">
            {data.audits.passed} passed · {data.audits.failed} failed · {data.audits.pending} pending
          </div>
        </div>
        <div class={`stat ${slashed.count > 0 ? "bad" : ""}`} data-testid="slashed-total" data-amount={slashed.total}>
          <div class="label">Slashed (credits)</div>
          <div class="value">{credits(slashed.total)}</div>
          <div class="muted small">{slashed.count === 1 ? "1 slash" : `${slashed.count} slashes`}</div>
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
        <dd>
          {credits(data.stake)} bonded · {credits(data.unbonding)} unbonding (slashable until paid out)
          {data.registry ? " · in ProviderRegistry on chain" : ""}
        </dd>
        {data.registry ? (
          <>
            <dt>Registry address</dt>
            <dd class="mono" data-testid="registry-address">
              {data.registry.address ?? "— (no eth address advertised)"}
            </dd>
            {data.registry.unbondReadyAt ? (
              <>
                <dt>Unbonded stake withdrawable</dt>
                <dd>{time(data.registry.unbondReadyAt)}</dd>
              </>
            ) : null}
            {data.registry.frozenUntil && data.registry.frozenUntil > Date.now() ? (
              <>
                <dt>Frozen by a dispute until</dt>
                <dd class="bad">{time(data.registry.frozenUntil)}</dd>
              </>
            ) : null}
          </>
        ) : null}
        {data.unbondings.length ? (
          <>
            <dt>Unbondings</dt>
            <dd>{data.unbondings.map((u) => `${credits(u.amount)} released ${time(u.releaseAt)}`).join("; ")}</dd>
          </>
        ) : null}
      </dl>
      <h2>Slashes</h2>
      {data.chainSlashes ? <ChainSlashes rows={data.chainSlashes} /> : null}
      {data.chainSlashes && data.slashes.data.length === 0 ? null : data.slashes.data.length === 0 ? (
        <p class="muted" data-testid="no-slashes">
          Never slashed.
        </p>
      ) : (
        <table data-testid="slashes">
          <thead>
            <tr>
              <th>Job</th>
              <th>Audit</th>
              <th class="r">Slashed</th>
              <th class="r">Refunded to consumer</th>
              <th class="r">Rewarded to verifiers</th>
              <th class="r">Burned</th>
              <th>When</th>
            </tr>
          </thead>
          <tbody>
            {data.slashes.data.map((x) => (
              <tr key={`${x.jobId ?? x.auditId}:${x.at}`} data-testid="slash" data-job={x.jobId ?? ""}>
                <td>
                  {x.jobId ? (
                    <Link href={`/jobs/${x.jobId}`} class="mono">
                      {x.jobId}
                    </Link>
                  ) : (
                    "—"
                  )}
                </td>
                <td data-testid="slash-kind" data-kind={x.kind ?? ""} title={x.auditId ?? ""}>
                  {x.kind === "verifier" ? "verifier: canary judged wrong" : (x.kind ?? "—")}
                </td>
                <td class="r bad" data-testid="slash-amount" data-amount={x.amount}>
                  {credits(x.amount)}
                </td>
                <td class="r">{credits(x.refunded)}</td>
                <td class="r" title={x.reporters.join(", ")}>
                  {credits(x.rewarded)}
                  {x.reporters.length ? <span class="muted small"> ({x.reporters.length})</span> : null}
                </td>
                <td class="r">{credits(x.burned)}</td>
                <td>{time(x.at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div class="grid two">
        <Chart
          title={`Jobs per ${data.history.bucketMs / 60000} min`}
          t={b.map((x) => x.at)}
          lines={[
            { label: "completed", values: b.map((x) => x.completed), color: "#16a34a" },
            { label: "failed", values: b.map((x) => x.failed), color: "#dc2626" },
          ]}
          counts
        />
        <Chart title="Earned (credits per bucket)" t={b.map((x) => x.at)} lines={[{ label: "earned", values: b.map((x) => Number(x.earned) / 1e9), color: "#d97706" }]} format={(v) => credits(Math.round(v * 1e9))} />
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

function chainTotal(rows: ChainSlash[]): { count: number; total: string } {
  const done = rows.filter((x) => x.taken !== null);
  return { count: done.length, total: done.reduce((t, x) => t + BigInt(x.taken ?? "0"), 0n).toString() };
}

/** Slashes the gateway sent to the Slashing contract (--settlement evm), with the contract's split. */
function ChainSlashes(props: { rows: ChainSlash[] }) {
  if (props.rows.length === 0)
    return (
      <p class="muted" data-testid="no-chain-slashes">
        Never slashed on chain.
      </p>
    );
  return (
    <table data-testid="chain-slashes">
      <thead>
        <tr>
          <th>Job</th>
          <th>Status</th>
          <th>Transaction</th>
          <th class="r">Slashed</th>
          <th class="r">Refunded to consumer</th>
          <th class="r">Rewarded to verifiers</th>
          <th class="r">Burned</th>
          <th>When</th>
        </tr>
      </thead>
      <tbody>
        {props.rows.map((x) => (
          <tr key={x.auditId} data-testid="chain-slash" data-job={x.jobId} data-status={x.status}>
            <td>
              <Link href={`/jobs/${x.jobId}`} class="mono">
                {x.jobId}
              </Link>
            </td>
            <td title={x.error ?? ""}>{x.status}</td>
            <td class="mono small" data-testid="chain-slash-tx">
              {x.tx ?? "—"}
            </td>
            <td class="r bad" data-testid="chain-slash-amount" data-amount={x.taken ?? ""}>
              {x.taken === null ? "—" : credits(x.taken)}
            </td>
            <td class="r" data-testid="chain-slash-refund" data-amount={x.refund ?? ""}>
              {x.refund === null ? "—" : credits(x.refund)}
            </td>
            <td class="r" data-testid="chain-slash-reward" data-amount={x.reward ?? ""}>
              {x.reward === null ? "—" : credits(x.reward)}
            </td>
            <td class="r" data-testid="chain-slash-burn" data-amount={x.burned ?? ""}>
              {x.burned === null ? "—" : credits(x.burned)}
            </td>
            <td>{time(x.createdAt)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
