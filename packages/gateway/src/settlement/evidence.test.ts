// The gateway's checks of EIP-712 slashing evidence, on a real store (SQLite in memory) and real
// secp256k1 signatures: results and verdicts signed by the node's advertised address are stored;
// anyone else's signature, a missing one, or one over other numbers is refused with nothing stored.
import { type Deployment, evidenceSigner } from "@tessera/chain";
import type { JobRecord } from "@tessera/core";
import type { ResultMessage, VerdictMessage } from "@tessera/protocol";
import { openStore, type Store } from "@tessera/store";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ProviderSession } from "../engine/sessions.js";
import { Custody } from "./custody.js";
import { ChainEvidence } from "./evidence.js";

const deployment = {
  chainId: 31337,
  slashing: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
} as unknown as Deployment;
const providerKey = privateKeyToAccount(generatePrivateKey());
const verifierKey = privateKeyToAccount(generatePrivateKey());
const stranger = privateKeyToAccount(generatePrivateKey());

function session(id: string, ethAddress?: string): ProviderSession {
  return {
    id,
    capabilities: {
      runtimes: ["wasm"],
      models: [],
      pricePerUnit: 7,
      region: "r",
      maxConcurrency: 1,
      throughput: 1,
      ...(ethAddress ? { ethAddress } : {}),
    },
    connectedAt: 0,
    draining: false,
    online: true,
    completed: 0,
    failed: 0,
    msPerUnit: null,
    send: () => {},
    close: () => {},
  };
}

const job = {
  id: "job_1",
  consumerId: "c1",
  attempt: 1,
  providerId: "p1",
  pricePerUnit: 7,
  escrow: 1_000n,
} as JobRecord;

describe("ChainEvidence", () => {
  let store: Store;
  let ev: ChainEvidence;
  const custody = new Custody(Buffer.alloc(32, 1));
  const consumer = custody.account("c1").address;
  const provider = session("p1", providerKey.address);
  const verifier = session("v1", verifierKey.address);
  const result = (over: Partial<ResultMessage> = {}): ResultMessage => ({
    type: "result",
    jobId: "job_1",
    attempt: 1,
    output: { data: "" } as ResultMessage["output"],
    outputHash: "c".repeat(64),
    units: { inputTokens: 0, outputTokens: 0, standardUnits: 200 },
    signature: "ed25519",
    elapsedMs: 1,
    ...over,
  });
  const claim = (cost: bigint) => ({
    jobId: "job_1",
    attempt: 1,
    outputHash: "c".repeat(64),
    standardUnits: 200,
    consumer,
    cost,
  });
  const domain = { chainId: deployment.chainId, slashing: deployment.slashing };

  beforeEach(async () => {
    store = await openStore(":memory:");
    ev = new ChainEvidence({ store, deployment, custody, now: () => 5 });
  });
  afterEach(() => store.close());

  it("asks a provider with an eth address for evidence over the custodial consumer and the cost basis", () => {
    expect(ev.leaseEvidence(job, provider)).toEqual({ consumer, pricePerUnit: 7, maxCost: "1000" });
    expect(ev.leaseEvidence(job, session("p2"))).toBeUndefined();
  });

  it("stores a Result signed by the provider's address over min(units × price, escrow)", async () => {
    const sig = await evidenceSigner(providerKey).signResult(domain, claim(1_000n)); // 200 × 7 capped at 1,000
    expect(await ev.acceptResult(job, provider, result({ chainSignature: sig }))).toBeUndefined();
    expect(await store.chain.result("job_1", 1)).toMatchObject({ cost: 1_000n, signature: sig });
    expect(await ev.auditEvidence(job)).toEqual({ consumer, cost: "1000", providerSignature: sig });
  });

  it("refuses a Result signed by another key, over another cost, or not signed, storing nothing", async () => {
    const wrong = await evidenceSigner(stranger).signResult(domain, claim(1_000n));
    const otherCost = await evidenceSigner(providerKey).signResult(domain, claim(1_400n));
    for (const chainSignature of [wrong, otherCost])
      expect(await ev.acceptResult(job, provider, result({ chainSignature }))).toMatch(/not by the provider's/);
    expect(await ev.acceptResult(job, provider, result())).toMatch(/no EIP-712 result signature/);
    expect(await store.chain.result("job_1", 1)).toBeUndefined();
    // a provider without an eth address signs nothing and is not asked to
    expect(await ev.acceptResult(job, session("p2"), result())).toBeUndefined();
  });

  it("stores a Verdict signed by the verifier's address; refuses a stranger's or one on another verdict", async () => {
    const sig = await evidenceSigner(providerKey).signResult(domain, claim(1_000n));
    await ev.acceptResult(job, provider, result({ chainSignature: sig }));
    const verdict = (signature: string, pass = false, issuedAt = 100): VerdictMessage => ({
      type: "verdict",
      auditId: "aud_1",
      jobId: "job_1",
      report: { pass, reasons: [], checks: [], metrics: {} },
      signature: "ed25519",
      elapsedMs: 1,
      chain: { issuedAt, signature },
    });
    const byStranger = await evidenceSigner(stranger).signVerdict(domain, claim(1_000n), false, 100);
    expect(await ev.acceptVerdict("aud_1", job, verifier, verdict(byStranger))).toMatch(/not by the verifier's/);
    const good = await evidenceSigner(verifierKey).signVerdict(domain, claim(1_000n), false, 100);
    // the same signature presented as a pass, or at another time, does not recover to the verifier
    expect(await ev.acceptVerdict("aud_1", job, verifier, verdict(good, true))).toMatch(/not by the verifier's/);
    expect(await ev.acceptVerdict("aud_1", job, verifier, verdict(good, false, 101))).toMatch(/not by the verifier's/);
    expect(await store.chain.verdicts("aud_1")).toEqual([]);
    expect(await ev.acceptVerdict("aud_1", job, verifier, verdict(good))).toBeUndefined();
    expect(await store.chain.verdicts("aud_1")).toMatchObject([
      { verifierId: "v1", verifierAddress: verifierKey.address.toLowerCase(), valid: false, issuedAt: 100 },
    ]);
    expect(await ev.acceptVerdict("aud_1", job, session("v2"), verdict(good))).toMatch(/no eth address/);
  });

  it("refuses a verdict whose signed issuedAt is more than 5 minutes from the gateway's clock", async () => {
    // a backdated issuedAt would put the verdict before any canary's commitment on chain
    ev = new ChainEvidence({ store, deployment, custody, now: () => 1_000_000_000 });
    const sig = await evidenceSigner(providerKey).signResult(domain, claim(1_000n));
    await ev.acceptResult(job, provider, result({ chainSignature: sig }));
    const verdictAt = async (issuedAt: number): Promise<VerdictMessage> => ({
      type: "verdict",
      auditId: "aud_1",
      jobId: "job_1",
      report: { pass: false, reasons: [], checks: [], metrics: {} },
      signature: "ed25519",
      elapsedMs: 1,
      chain: {
        issuedAt,
        signature: await evidenceSigner(verifierKey).signVerdict(domain, claim(1_000n), false, issuedAt),
      },
    });
    expect(await ev.acceptVerdict("aud_1", job, verifier, await verdictAt(1))).toMatch(/from the gateway's clock/);
    expect(await ev.acceptVerdict("aud_1", job, verifier, await verdictAt(1_000_000 - 301))).toMatch(/gateway's clock/);
    expect(await ev.acceptVerdict("aud_1", job, verifier, await verdictAt(1_000_000 + 301))).toMatch(/gateway's clock/);
    expect(await store.chain.verdicts("aud_1")).toEqual([]);
    expect(await ev.acceptVerdict("aud_1", job, verifier, await verdictAt(1_000_000 - 299))).toBeUndefined();
    expect(await store.chain.verdicts("aud_1")).toMatchObject([{ verifierId: "v1", issuedAt: 1_000_000 - 299 }]);
  });
});
