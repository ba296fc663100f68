// A small typed client for Tessera's native API. For chat and completions use the official
// `openai` package pointed at the gateway's /v1; this covers what OpenAI's API has no words for.
import { errorFromBody, MAX_JOB_WAIT_MS, type SubmitJobInput } from "@tessera/protocol";
import type {
  AccountView,
  JobView,
  LedgerReport,
  ListPage,
  ProviderInfo,
  SettlementAccountView,
  SettlementAddressView,
  SettlementInfo,
  SignedVoucherView,
  VoucherDueView,
  WithdrawalView,
} from "./types.js";

export interface ClientOptions {
  baseUrl: string;
  apiKey?: string;
  /** admin token, for the /v1/admin endpoints */
  adminKey?: string;
  fetch?: typeof fetch;
}

export class TesseraClient {
  private readonly base: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly opts: ClientOptions) {
    this.base = opts.baseUrl.replace(/\/+$/, "");
    this.fetchImpl = opts.fetch ?? fetch;
  }

  private async request<T>(
    method: string,
    path: string,
    body?: unknown,
    auth: "key" | "admin" | "none" = "key",
    raw?: Uint8Array,
  ): Promise<T> {
    const headers: Record<string, string> = {};
    const token = auth === "admin" ? this.opts.adminKey : auth === "key" ? this.opts.apiKey : undefined;
    if (token) headers.authorization = `Bearer ${token}`;
    let payload: string | Uint8Array | undefined;
    if (raw) {
      headers["content-type"] = "application/octet-stream";
      payload = raw;
    } else if (body !== undefined) {
      headers["content-type"] = "application/json";
      payload = JSON.stringify(body);
    }
    const res = await this.fetchImpl(`${this.base}${path}`, { method, headers, body: payload });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch (e) {
      // a proxy's HTML error page: the status is what there is to say
      if (!res.ok) throw errorFromBody(res.status, undefined);
      throw e;
    }
    if (!res.ok) throw errorFromBody(res.status, json);
    return json as T;
  }

  health() {
    return this.request<{ ok: boolean; providers: number }>("GET", "/healthz", undefined, "none");
  }
  submitJob(job: SubmitJobInput) {
    return this.request<JobView>("POST", "/v1/jobs", job);
  }
  /** With `waitMs`, the gateway holds the request until the job finishes or the wait runs out. */
  getJob(id: string, opts: { waitMs?: number } = {}) {
    // the gateway takes whole milliseconds up to MAX_JOB_WAIT_MS
    const wait = opts.waitMs ? Math.min(MAX_JOB_WAIT_MS, Math.ceil(opts.waitMs)) : 0;
    const q = wait > 0 ? `?wait=${wait}` : "";
    return this.request<JobView>("GET", `/v1/jobs/${encodeURIComponent(id)}${q}`);
  }
  /** Polls with long waits until the job reaches a final state. */
  async waitForJob(id: string, opts: { timeoutMs?: number } = {}): Promise<JobView> {
    const until = Date.now() + (opts.timeoutMs ?? 10 * 60_000);
    for (;;) {
      const job = await this.getJob(id, { waitMs: Math.max(1, Math.min(30_000, until - Date.now())) });
      if (job.status !== "queued" && job.status !== "running") return job;
      if (Date.now() >= until) return job;
    }
  }
  listJobs(opts: { limit?: number; cursor?: string; status?: JobView["status"] } = {}) {
    const q = new URLSearchParams();
    if (opts.limit !== undefined) q.set("limit", String(opts.limit));
    if (opts.cursor) q.set("cursor", opts.cursor);
    if (opts.status) q.set("status", opts.status);
    const qs = q.toString();
    return this.request<ListPage<JobView>>("GET", `/v1/jobs${qs ? `?${qs}` : ""}`);
  }
  cancelJob(id: string) {
    return this.request<JobView>("DELETE", `/v1/jobs/${encodeURIComponent(id)}`);
  }
  account() {
    return this.request<AccountView>("GET", "/v1/account");
  }
  /** On-chain settlement: the consumer's custodial address, Escrow deposit and headroom. */
  settlementAccount() {
    return this.request<SettlementAccountView>("GET", "/v1/settlement/account");
  }
  /**
   * On-chain settlement: the gateway (custodian of the consumer's chain key) requests `amount`
   * from the Escrow contract and, after its delay, sends it to `to`. Answers the withdrawal as requested.
   */
  withdraw(amount: bigint, to: string) {
    return this.request<WithdrawalView>("POST", "/v1/settlement/withdraw", { amount: amount.toString(), to });
  }
  withdrawals() {
    return this.request<{ object: "list"; data: WithdrawalView[] }>("GET", "/v1/settlement/withdrawals");
  }
  /** Which backend settles and, on chain, the chain id and Escrow contract vouchers are signed for. */
  settlementInfo() {
    return this.request<SettlementInfo>("GET", "/v1/settlement", undefined, "none");
  }
  /** The address that signs this consumer's vouchers, and the message an address signs to bind itself. */
  settlementAddress() {
    return this.request<SettlementAddressView>("GET", "/v1/settlement/address");
  }
  /** Binds the consumer's own chain address (`signature`: its EIP-191 signature of settlementAddress().message). */
  bindAddress(address: string, signature: string) {
    return this.request<SettlementAddressView>("POST", "/v1/settlement/address", { address, signature });
  }
  /** Vouchers the consumer owes its providers, each as EIP-712 typed data (consumers bound to their own address). */
  vouchersDue() {
    return this.request<{ object: "list"; consumer: string; unsigned: string; data: VoucherDueView[] }>(
      "GET",
      "/v1/settlement/vouchers/due",
    );
  }
  submitVoucher(providerId: string, cumulative: bigint, signature: string) {
    return this.request<SignedVoucherView>("POST", "/v1/settlement/vouchers", {
      providerId,
      cumulative: cumulative.toString(),
      signature,
    });
  }
  providers() {
    return this.request<ListPage<ProviderInfo>>("GET", "/v1/providers", undefined, "none");
  }
  models() {
    return this.request<{ data: { id: string; content_id: string; parameters: number; providers_online: number }[] }>(
      "GET",
      "/v1/models",
    );
  }
  uploadBlob(bytes: Uint8Array) {
    return this.request<{ id: string; bytes: number }>("POST", "/v1/blobs", undefined, "key", bytes);
  }

  // operator endpoints
  createConsumer(name: string, deposit?: bigint) {
    return this.request<{ id: string; name: string; apiKey: string }>(
      "POST",
      "/v1/admin/consumers",
      { name, ...(deposit ? { deposit: deposit.toString() } : {}) },
      "admin",
    );
  }
  deposit(consumerId: string, amount: bigint, id?: string) {
    return this.request<{ id: string; applied: boolean }>(
      "POST",
      "/v1/admin/deposits",
      { consumerId, amount: amount.toString(), ...(id ? { id } : {}) },
      "admin",
    );
  }
  ledger() {
    return this.request<LedgerReport>("GET", "/v1/admin/ledger", undefined, "admin");
  }
}
