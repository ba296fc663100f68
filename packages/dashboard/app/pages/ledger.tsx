// Ledger: the invariants computed by the gateway over every balance and posting, the totals,
// the accounts and the newest postings.
import { useApi } from "../api.js";
import { credits, short, tail, time } from "../format.js";
import { Link, navigate, useLocation } from "../router.js";

interface Ledger {
  ok: boolean;
  checkedAt: number;
  accounts: number;
  netDeposited: string;
  internalTotal: string;
  totals: Record<string, string>;
  invariants: { name: string; title: string; ok: boolean; detail: string }[];
}
interface Posting {
  id: number;
  eventId: string;
  kind: string;
  jobId: string | null;
  at: number;
  from: string;
  to: string;
  amount: string;
}

/** A provider's accounts (earnings, stake, unbonding) link to the provider, named by their own suffix. */
function AccountName(props: { name: string }) {
  const m = /^provider:([0-9a-f]+):(.+)$/.exec(props.name);
  if (m?.[1] && m[2])
    return (
      <Link href={`/providers/${m[1]}`} class="mono" title={props.name}>
        <span data-account={props.name}>{`provider:${short(m[1])}:${m[2]}`}</span>
      </Link>
    );
  return (
    <span class="mono" data-account={props.name}>
      {props.name}
    </span>
  );
}

export function LedgerPage() {
  const { query } = useLocation();
  const prefix = query.get("prefix") ?? "";
  const offset = Number(query.get("offset") ?? 0);
  const before = query.get("before") ?? "";
  const ledger = useApi<Ledger>("/v1/explorer/ledger");
  const accounts = useApi<{ total: number; data: { name: string; balance: string }[] }>("/v1/explorer/ledger/accounts", { prefix, offset, limit: 20 }, [prefix, offset]);
  const postings = useApi<{ data: Posting[]; nextCursor: number | null }>("/v1/explorer/ledger/postings", { before, limit: 25 }, [before]);
  const go = (p: Record<string, string | number>) => {
    const q = new URLSearchParams({ prefix, offset: String(offset), before, ...Object.fromEntries(Object.entries(p).map(([k, v]) => [k, String(v)])) });
    for (const [k, v] of [...q]) if (!v || v === "0") q.delete(k);
    navigate(`/ledger${q.size ? `?${q}` : ""}`);
  };
  const l = ledger.data;
  return (
    <div>
      <h1>Ledger</h1>
      <section class={`card invariants ${l ? (l.ok ? "pass" : "fail") : ""}`} data-testid="invariants" data-ok={l ? String(l.ok) : ""}>
        <header>
          <h2>{l ? (l.ok ? "✔ All ledger invariants hold" : "✘ A ledger invariant is broken") : "Checking the ledger…"}</h2>
          {l ? (
            <button type="button" onClick={ledger.reload}>
              Check again
            </button>
          ) : null}
        </header>
        {l ? (
          <>
            <ul>
              {l.invariants.map((i) => (
                <li key={i.name} class={i.ok ? "good" : "bad"} data-invariant={i.name} data-ok={String(i.ok)}>
                  <strong>{i.ok ? "✔ pass" : "✘ FAIL"}</strong> {i.title} <span class="muted">— {i.detail}</span>
                </li>
              ))}
            </ul>
            <p class="muted small">
              Computed by the gateway over all {l.accounts} accounts at {time(l.checkedAt)}.
            </p>
          </>
        ) : null}
      </section>
      {l ? (
        <div class="stats">
          <div class="stat">
            <div class="label">Deposited (net)</div>
            <div class="value">{credits(l.netDeposited)}</div>
          </div>
          <div class="stat">
            <div class="label">Consumers available</div>
            <div class="value">{credits(l.totals.available)}</div>
          </div>
          <div class="stat">
            <div class="label">In escrow</div>
            <div class="value">{credits(l.totals.escrow)}</div>
          </div>
          <div class="stat">
            <div class="label">Provider earnings</div>
            <div class="value">{credits(l.totals.earnings)}</div>
          </div>
          <div class="stat">
            <div class="label">Protocol fees</div>
            <div class="value">{credits(l.totals.fees)}</div>
          </div>
          <div class="stat" data-total="stake" title="bonded and unbonding">
            <div class="label">Provider stake</div>
            <div class="value">{credits(l.totals.stake)}</div>
          </div>
          <div class="stat" data-total="other" title="node share pools and shareholders, consumer wallets, withdrawals in flight">
            <div class="label">Other</div>
            <div class="value">{credits(l.totals.other)}</div>
          </div>
        </div>
      ) : null}
      <div class="grid two">
        <section class="card">
          <h2>Accounts</h2>
          <p class="muted small">Consumers are private: only your own accounts are listed (with your API key on My account), and other consumers appear in postings as consumer:*. The totals above count everyone.</p>
          <div class="toolbar">
            {["", "consumer:", "provider:", "protocol:", "external"].map((p) => (
              <button type="button" key={p} class={prefix === p ? "selected" : ""} onClick={() => go({ prefix: p, offset: 0 })}>
                {p || "all"}
              </button>
            ))}
          </div>
          <table data-testid="accounts">
            <tbody>
              {(accounts.data?.data ?? []).map((a) => (
                <tr key={a.name}>
                  <td>
                    <AccountName name={a.name} />
                  </td>
                  <td class="r">{credits(a.balance)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <div class="pager">
            <button type="button" disabled={offset === 0} onClick={() => go({ offset: Math.max(0, offset - 20) })}>
              ←
            </button>
            <span class="muted">
              {offset + 1}–{Math.min(offset + 20, accounts.data?.total ?? 0)} of {accounts.data?.total ?? 0}
            </span>
            <button type="button" disabled={offset + 20 >= (accounts.data?.total ?? 0)} onClick={() => go({ offset: offset + 20 })}>
              →
            </button>
          </div>
        </section>
        <section class="card">
          <h2>Postings</h2>
          <table data-testid="postings">
            <tbody>
              {(postings.data?.data ?? []).map((p) => (
                <tr key={p.id}>
                  <td>{p.kind}</td>
                  <td>
                    {p.jobId ? (
                      <Link href={`/jobs/${encodeURIComponent(p.jobId)}`} class="mono" title={p.jobId}>
                        {tail(p.jobId)}
                      </Link>
                    ) : (
                      <span class="mono" title={p.eventId}>
                        {tail(p.eventId)}
                      </span>
                    )}
                  </td>
                  <td class="small wrap">
                    <AccountName name={p.from} /> → <AccountName name={p.to} />
                  </td>
                  <td class="r">{credits(p.amount)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <div class="pager">
            {before ? (
              <button type="button" onClick={() => go({ before: "" })}>
                ← Newest
              </button>
            ) : null}
            {postings.data?.nextCursor ? (
              <button type="button" onClick={() => go({ before: postings.data?.nextCursor ?? "" })}>
                Older →
              </button>
            ) : null}
          </div>
        </section>
      </div>
    </div>
  );
}
