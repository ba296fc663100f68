// Providers: where capacity is (a grid of regions) and every provider, paged and sortable.
import { useApi } from "../api.js";
import { ago, credits, num, pct, short } from "../format.js";
import { Link, navigate, useLocation } from "../router.js";

export interface ProviderRow {
  id: string;
  region: string;
  runtimes: string[];
  models: string[];
  pricePerUnit: number;
  capacity: number;
  throughput: number;
  load: number;
  reputation: number;
  completed: number;
  failed: number;
  online: boolean;
  draining: boolean;
  /** bonded stake and stake unbonding, nano-credits */
  stake: string | null;
  unbonding: string | null;
  excluded: boolean;
  earnings: string | null;
  lastSeenAt: number;
  uptimeMs: number;
}
interface Region {
  region: string;
  providers: number;
  online: number;
  capacity: number;
  onlineCapacity: number;
  running: number;
}

const PAGE = 25;

export function ProvidersPage() {
  const { query } = useLocation();
  const sort = query.get("sort") ?? "lastSeen";
  const region = query.get("region") ?? "";
  const offset = Number(query.get("offset") ?? 0);
  const regions = useApi<{ data: Region[] }>("/v1/explorer/regions");
  const page = useApi<{ total: number; data: ProviderRow[] }>("/v1/explorer/providers", { sort, region, offset, limit: PAGE }, [sort, region, offset]);
  const go = (p: Record<string, string | number>) => {
    const q = new URLSearchParams({ sort, region, offset: String(offset), ...Object.fromEntries(Object.entries(p).map(([k, v]) => [k, String(v)])) });
    for (const [k, v] of [...q]) if (!v || (k === "offset" && v === "0")) q.delete(k);
    navigate(`/providers${q.size ? `?${q}` : ""}`);
  };
  const maxCap = Math.max(1, ...(regions.data?.data ?? []).map((r) => r.capacity));

  return (
    <div>
      <h1>Providers</h1>
      <h2>Capacity by region</h2>
      <div class="regions">
        {(regions.data?.data ?? []).map((r) => (
          <button type="button" class={`region ${region === r.region ? "selected" : ""}`} key={r.region} onClick={() => go({ region: region === r.region ? "" : r.region, offset: 0 })}>
            <div class="name">{r.region}</div>
            <div class="bar" title={`${r.onlineCapacity} of ${r.capacity} slots online`}>
              <span style={{ width: `${(100 * r.capacity) / maxCap}%` }} class="total" />
              <span style={{ width: `${(100 * r.onlineCapacity) / maxCap}%` }} class="online" />
            </div>
            <div class="muted">
              {r.online}/{r.providers} online · {r.onlineCapacity} slots · {r.running} running
            </div>
          </button>
        ))}
        {regions.data && regions.data.data.length === 0 ? <p class="muted">No provider has connected yet.</p> : null}
      </div>
      <div class="toolbar">
        <label>
          Sort by{" "}
          <select value={sort} onChange={(e) => go({ sort: (e.target as HTMLSelectElement).value, offset: 0 })}>
            <option value="lastSeen">online, last seen</option>
            <option value="earnings">earnings</option>
            <option value="completed">jobs done</option>
            <option value="stake">stake</option>
            <option value="id">id</option>
          </select>
        </label>
        {region ? (
          <button type="button" onClick={() => go({ region: "", offset: 0 })}>
            region: {region} ✕
          </button>
        ) : null}
        <span class="muted">{page.data ? `${page.data.total} providers` : ""}</span>
      </div>
      <table data-testid="providers-table">
        <thead>
          <tr>
            <th>Provider</th>
            <th>Status</th>
            <th>Region</th>
            <th>Runtimes</th>
            <th>Models</th>
            <th class="r">Price /SU</th>
            <th class="r">Load</th>
            <th class="r">Reputation</th>
            <th class="r">Stake</th>
            <th class="r">Uptime</th>
            <th class="r">Jobs done</th>
            <th class="r">Earnings</th>
          </tr>
        </thead>
        <tbody>
          {(page.data?.data ?? []).map((p) => (
            <tr key={p.id}>
              <td>
                <Link href={`/providers/${p.id}`} class="mono">
                  {short(p.id, 12)}
                </Link>
              </td>
              <td>
                <span class={`badge ${p.online ? (p.draining ? "running" : "completed") : "cancelled"}`}>{p.online ? (p.draining ? "draining" : "online") : "offline"}</span>
                {p.excluded ? <span class="badge failed">excluded</span> : null}
              </td>
              <td>{p.region}</td>
              <td>{p.runtimes.join(", ")}</td>
              <td>{p.models.join(", ") || "—"}</td>
              <td class="r">{p.pricePerUnit} nc</td>
              <td class="r">
                {p.load}/{p.capacity}
              </td>
              <td class="r">{pct(p.reputation)}</td>
              <td class="r" data-testid="provider-stake" data-stake={p.stake ?? ""} data-unbonding={p.unbonding ?? ""} title={p.unbonding && p.unbonding !== "0" ? `${credits(p.unbonding)} unbonding` : undefined}>
                {credits(p.stake)}
                {p.unbonding && p.unbonding !== "0" ? <span class="muted small"> +{credits(p.unbonding)} unbonding</span> : null}
              </td>
              <td class="r">{p.online ? num(p.uptimeMs / 60000, 0) + " min" : ago(p.lastSeenAt)}</td>
              <td class="r">{num(p.completed)}</td>
              <td class="r">{credits(p.earnings)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {page.data ? (
        <div class="pager">
          <button type="button" disabled={offset === 0} onClick={() => go({ offset: Math.max(0, offset - PAGE) })}>
            ← Previous
          </button>
          <span class="muted">
            {page.data.total === 0 ? 0 : offset + 1}–{Math.min(offset + PAGE, page.data.total)} of {page.data.total}
          </span>
          <button type="button" disabled={offset + PAGE >= page.data.total} onClick={() => go({ offset: offset + PAGE })}>
            Next →
          </button>
        </div>
      ) : null}
      <p class="muted">Stake is the provider's bonded stake (on the ledger, or under on-chain settlement in ProviderRegistry), slashed when an audit catches a wrong result; unbonding stake stays slashable until it is paid out.</p>
    </div>
  );
}
