// A verifier's WASM audits through a real gateway's provider channel: the audits a node lists in
// its heartbeats hold its WASM memory budget for the scheduler (a WASM job that would wait on the
// node behind them is not leased there), and an audit since sent to another verifier is cancelled
// on the node that still lists it. The nodes are raw channel clients: the audited provider answers
// its lease with a signed result, the verifiers hold their audits for as long as the test says.
import type { GatewayHandle } from "@tessera/gateway";
import { type Capabilities, generateIdentity, type Identity, signVerdict } from "@tessera/protocol";
import { loadBuiltinModule } from "@tessera/runtimes";
import { TesseraClient } from "@tessera/sdk";
import { afterEach, describe, expect, it } from "vitest";
import { gatewayInProcess } from "../helpers/in-process.js";
import { until } from "../helpers/processes.js";
import { type RawProvider, rawProvider, signedWasmResult } from "../helpers/raw-provider.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");

const wasmNode = (region: string, operator: string, verifier: boolean): Capabilities => ({
  runtimes: ["wasm"],
  models: [],
  pricePerUnit: 10,
  region,
  maxConcurrency: 4,
  throughput: 1_000,
  wasmMemoryMb: 100,
  operator,
  ...(verifier ? { verifier: true } : {}),
});

let gw: GatewayHandle | undefined;
const nodes: RawProvider[] = [];
afterEach(async () => {
  for (const n of nodes.splice(0)) {
    n.ws.close();
    await n.closed;
  }
  await gw?.close();
  gw = undefined;
});

/**
 * A gateway auditing every result, with a provider and two verifiers of other operators; a WASM
 * job run on the provider, and the verifier its audit went to first.
 */
async function audited(verdictTimeoutMs: number) {
  const started = await gatewayInProcess({
    rateLimitPerSecond: 0,
    verification: {
      policy: { newRate: 1, floorRate: 1 },
      verdictTimeoutMs,
      passRecheckRate: 0,
      canaries: { providerRate: 0, verifierRate: 0 },
      // every node schedulable at once (its capacity proof would hold its leases back a while)
      capacity: { required: false, n: 8 },
    },
  });
  gw = started.gw;
  const client = new TesseraClient({ baseUrl: gw.url, apiKey: started.apiKey });
  const providerKey: Identity = generateIdentity();
  const provider = await rawProvider(gw.port, wasmNode("p", "op-p", false), providerKey);
  const keys = [generateIdentity(), generateIdentity()] as const;
  const v1 = await rawProvider(gw.port, wasmNode("v1", "op-v1", true), keys[0]);
  const v2 = await rawProvider(gw.port, wasmNode("v2", "op-v2", true), keys[1]);
  nodes.push(provider, v1, v2);
  const module = (await client.uploadBlob(await loadBuiltinModule("reverse"))).id;
  const spec = (maxMemoryMb: number, data: string) => ({
    runtime: "wasm" as const,
    module,
    input: { data: b64(data) },
    limits: { timeoutMs: 10_000, maxMemoryMb },
  });

  const job = await client.submitJob({ ...spec(64, "audited"), constraints: { regions: ["p"] } });
  const lease = await provider.next((m) => m.type === "lease" && m.jobId === job.id);
  const result = signedWasmResult(providerKey, job.id, lease.attempt as number, b64("detidua"));
  const { outputHash } = result;
  provider.send(result);
  const auditOf = (v: RawProvider) => v.frames.find((m) => m.type === "audit" && m.jobId === job.id);
  const first = await until("audit sent to a verifier", () => [v1, v2].find((v) => auditOf(v) !== undefined));
  const second = first === v1 ? v2 : v1;
  const region = first === v1 ? "v1" : "v2";
  const firstKey = first === v1 ? keys[0] : keys[1];
  const auditId = auditOf(first)?.auditId as string;

  let syncs = 0;
  /**
   * A heartbeat listing `audits` and a lease the node does not hold, then the cancel the gateway
   * answers that lease with: once it is in, the gateway has handled the heartbeat and every round
   * kicked before it.
   */
  const heartbeat = async (v: RawProvider, audits: { auditId: string; wasmMemoryMb: number }[]) => {
    const attempt = ++syncs;
    v.send({ type: "heartbeat", running: [{ jobId: "job_sync", attempt }], ...(audits.length > 0 ? { audits } : {}) });
    await v.next((m) => m.type === "cancel" && m.jobId === "job_sync" && m.attempt === attempt);
  };
  /** the first verifier's signed pass of the result */
  const pass = () =>
    first.send({
      type: "verdict",
      auditId,
      jobId: job.id,
      report: { pass: true, reasons: [], checks: ["reexecute"], metrics: {} },
      signature: signVerdict(firstKey, { auditId, jobId: job.id, outputHash, pass: true }),
      elapsedMs: 5,
    });
  return { gw: started.gw, client, spec, jobId: job.id, first, second, region, auditId, heartbeat, pass };
}

const leaseOf = (v: RawProvider, jobId: string) => v.frames.find((m) => m.type === "lease" && m.jobId === jobId);

describe("a verifier's WASM audits and the gateway", () => {
  it("leases no WASM job into the memory a verifier's audits hold, and leases it once they end", async () => {
    const { client, spec, first, region, auditId, heartbeat } = await audited(600_000);
    await heartbeat(first, [{ auditId, wasmMemoryMb: 64 }]);
    // 64 MiB of its 100 held by the audit: a 64 MiB job would wait there behind it
    const job = await client.submitJob({ ...spec(64, "waits"), constraints: { regions: [region] } });
    await heartbeat(first, [{ auditId, wasmMemoryMb: 64 }]);
    expect(leaseOf(first, job.id)).toBeUndefined();
    expect((await client.getJob(job.id)).status).toBe("queued");

    // the audit ended: its heartbeat lists it no more, and the job is leased
    await heartbeat(first, []);
    await first.next((m) => m.type === "lease" && m.jobId === job.id);
  });

  it("cancels an audit on a verifier that still lists it once it was sent to another", async () => {
    const { first, second, auditId, heartbeat } = await audited(200);
    // the first verifier did not answer in time: the audit goes to the other one
    await until("audit sent to the second verifier", () =>
      second.frames.find((m) => m.type === "audit" && m.auditId === auditId),
    );
    await heartbeat(second, [{ auditId, wasmMemoryMb: 64 }]);
    await heartbeat(first, [{ auditId, wasmMemoryMb: 64 }]);
    expect(first.frames.filter((m) => m.type === "audit_cancel")).toEqual([
      { type: "audit_cancel", auditId, reason: "this audit's verdict is awaited no more" },
    ]);
    expect(second.frames.filter((m) => m.type === "audit_cancel")).toEqual([]);
  });

  it("cancels on a verifier the audits the gateway takes no verdict on: one it does not know (from before a restart), and one decided", async () => {
    const { gw, jobId, first, auditId, heartbeat, pass } = await audited(600_000);
    const cancels = () => first.frames.filter((m) => m.type === "audit_cancel").map((m) => m.auditId);
    await heartbeat(first, [
      { auditId, wasmMemoryMb: 64 },
      { auditId: "aud_from_before_a_restart", wasmMemoryMb: 8 },
    ]);
    expect(cancels()).toEqual(["aud_from_before_a_restart"]);

    // its pass decides the audit (no re-check): a node listing it still holds it for nothing
    pass();
    await until("audit passed", async () => {
      const audits = (await (await fetch(`${gw.url}/v1/jobs/${jobId}/audits`)).json()) as {
        data: { status: string }[];
      };
      return audits.data[0]?.status === "passed";
    });
    await heartbeat(first, [{ auditId, wasmMemoryMb: 64 }]);
    expect(cancels()).toEqual(["aud_from_before_a_restart", auditId]);
  });
});
