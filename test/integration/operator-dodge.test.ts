// A provider that claims the operator label of the only verifier serving its model, end to end
// with real processes. Audits never go to a verifier of the provider's operator, and the label is
// the node's own claim, read by anyone in /v1/verification/nodes: a cheater claiming it was never
// audited (its audits waited in the store for good) and was paid for every job. Now it gets no
// more work once such an audit waits, and when verifiers of other operators come, it is audited,
// slashed and excluded.
import type { TesseraClient } from "@tessera/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestNetwork, until } from "../helpers/network.js";
import { greedyTinyJob, stakedVerifiers, verificationReads } from "../helpers/verification.js";

const MIN_STAKE = 1_000_000_000n;
const verifiers = stakedVerifiers(MIN_STAKE);

describe("a provider claiming the only verifier's operator to dodge audits", () => {
  const net = new TestNetwork();
  const reads = verificationReads(net);
  let client: TesseraClient;
  const submit = (prompt: string) => client.submitJob(greedyTinyJob(prompt, "spoof"));

  beforeAll(async () => {
    await net.startGateway([...verifiers.flags, "--audit-new-rate", "1", "--audit-floor", "1"]);
    await net.startProvider({ region: "verifier-a", extra: ["--verify", "--operator", "op-a"] });
    await net.waitForProviders(1);
    await verifiers.stake(reads, 1);
    client = (await net.consumer()).client;
  }, 120_000);
  afterAll(() => net.stop());

  it("is not scheduled while only that operator's verifier could audit it, and is slashed once others can", async () => {
    const verifierA = await until("verifier listed", () => reads.byRegion("verifier-a"));
    expect(verifierA.operator).toBe("op-a");
    const cheater = await net.startAdversary("random", {
      operator: verifierA.operator,
      region: "spoof",
      concurrency: 1,
    });
    await net.waitForProviders(2);
    await reads.stake(cheater, MIN_STAKE);
    const first = await submit("The world is");
    expect((await client.waitForJob(first.id)).status).toBe("completed");
    const [audit] = await until("audit drawn", async () => {
      const list = await reads.audits(first.id);
      return list.length > 0 ? list : undefined;
    });
    expect(audit?.status).toBe("pending");
    // more work for it waits: it would be paid for results nobody can check
    const more = [await submit("Once upon a time"), await submit("water")];
    await new Promise((r) => setTimeout(r, 2_000));
    for (const j of more) expect((await client.getJob(j.id)).status).toBe("queued");
    expect((await reads.byId(cheater))?.excluded).toBe(false);

    // verifiers of other operators come: the waiting audit goes to them, they fail it, the cheater is slashed
    await net.startProvider({ region: "verifier-b", extra: ["--verify", "--operator", "op-b"] });
    await net.startProvider({ region: "verifier-c", extra: ["--verify", "--operator", "op-c"] });
    await net.waitForProviders(4);
    await verifiers.stake(reads, 3);
    const view = await until(
      "cheater slashed",
      async () => {
        const v = await reads.byId(cheater);
        return v?.excluded && BigInt(v.slashed) > 0n ? v : undefined;
      },
      60_000,
    );
    expect(BigInt(view.stake)).toBeLessThan(MIN_STAKE);
    // the stake is taken before the audit's decision is stored: wait for that too
    const decided = await until("audit decided", async () => {
      const list = await reads.audits(first.id);
      return list[0]?.status !== "pending" ? list : undefined;
    });
    expect(decided[0]?.status).toBe("slashed");
    expect(decided[0]?.verdicts.map((v) => v.verifierId)).not.toContain(verifierA.id);
    const ledger = await net.admin.ledger();
    expect(ledger.ok).toBe(true);
  }, 180_000);
});
