// My account: the consumer's own view behind its API key — balance, spend, jobs, batches.
import { useEffect, useState } from "preact/hooks";
import { apiKey, setApiKey, useApi } from "../api.js";
import { credits } from "../format.js";
import { type JobRow, JobsTable } from "./jobs.js";

interface Me {
  id: string;
  name: string | null;
  balance: string;
  escrow: string;
  spent: string;
  jobs: JobRow[];
  batches: BatchRow[];
}

interface BatchRow {
  id: string;
  status: string;
  endpoint: string;
  total: number;
  completed: number;
  failed: number;
  spent: string;
}

const FINAL = ["completed", "failed", "cancelled", "expired"];

export function AccountPage() {
  const [key, setKey] = useState(apiKey() ?? "");
  const [saved, setSaved] = useState(apiKey());
  const me = useApi<Me>(saved ? "/v1/explorer/me" : null, {}, [saved]);
  // while a batch runs, its progress refreshes every second
  const running = me.data?.batches.some((b) => !FINAL.includes(b.status)) ?? false;
  useEffect(() => {
    if (!running) return;
    const t = setTimeout(me.reload, 1000);
    return () => clearTimeout(t);
  }, [me.data, running]);
  return (
    <div>
      <h1>My account</h1>
      <form
        class="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          setApiKey(key.trim() || null);
          setSaved(key.trim() || null);
        }}
      >
        <input type="password" placeholder="API key (tsk_…)" value={key} onInput={(e) => setKey((e.target as HTMLInputElement).value)} aria-label="API key" style={{ width: "28rem" }} />
        <button type="submit">Use this key</button>
        {saved ? (
          <button
            type="button"
            onClick={() => {
              setApiKey(null);
              setSaved(null);
              setKey("");
            }}
          >
            Forget key
          </button>
        ) : null}
      </form>
      <p class="muted small">The key stays in this browser (localStorage) and is sent only to this gateway. It also lets job pages show your jobs' inputs and outputs.</p>
      {!saved ? <p>Enter your API key to see your balance, spend and jobs.</p> : null}
      {me.error ? <p class="error">{me.error.message}</p> : null}
      {me.data ? (
        <>
          <div class="stats" data-testid="account">
            <div class="stat">
              <div class="label">Account</div>
              <div class="value small mono">{me.data.name ?? me.data.id}</div>
            </div>
            <div class="stat">
              <div class="label">Balance (credits)</div>
              <div class="value" data-testid="balance">
                {credits(me.data.balance)}
              </div>
            </div>
            <div class="stat">
              <div class="label">In escrow</div>
              <div class="value">{credits(me.data.escrow)}</div>
            </div>
            <div class="stat">
              <div class="label">Spent</div>
              <div class="value">{credits(me.data.spent)}</div>
            </div>
          </div>
          <h2>My batches</h2>
          {me.data.batches.length === 0 ? (
            <p class="muted">No batches.</p>
          ) : (
            <table data-testid="batches">
              <thead>
                <tr>
                  <th>Batch</th>
                  <th>Status</th>
                  <th>Progress</th>
                  <th class="r">Done</th>
                  <th class="r">Failed</th>
                  <th class="r">Spent</th>
                </tr>
              </thead>
              <tbody>
                {me.data.batches.map((b) => (
                  <tr key={b.id} data-batch={b.id} data-status={b.status}>
                    <td class="mono">{b.id}</td>
                    <td>{b.status}</td>
                    <td style={{ width: "30%" }}>
                      <div class="bar">
                        <span class="online" style={{ width: `${(100 * (b.completed + b.failed)) / Math.max(1, b.total)}%` }} />
                      </div>
                    </td>
                    <td class="r" data-testid="batch-done">
                      {b.completed + b.failed}/{b.total}
                    </td>
                    <td class="r">{b.failed}</td>
                    <td class="r">{credits(b.spent)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h2>My jobs</h2>
          <JobsTable jobs={me.data.jobs} showConsumer={false} />
        </>
      ) : null}
    </div>
  );
}
