// Node shares over a real SQLite store: what a stop between a settle and its distribution leaves
// undone is distributed at the next start, once.
import { checkInvariants, depositEvent, sharesAccounts } from "@tessera/core";
import { openStore, type Store } from "@tessera/store";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GroupWriter } from "../engine/writer.js";
import { NodeSharesService } from "./shares.js";
import { settledJob } from "./test-ledger.js";

const P = "p1";
let store: Store;
let clock: number;
const service = () => new NodeSharesService(store, new GroupWriter(store), () => clock);

/** A job of consumer c settled to P at `at`, its earnings (fee 0) `cost`. */
async function settled(jobId: string, cost: bigint, at: number): Promise<void> {
  await store.commit(
    settledJob({ jobId, consumerId: "c", providerId: P, cost, feeBps: 0, at }).map((ledger) => ({ ledger })),
  );
}

beforeEach(async () => {
  store = await openStore(":memory:");
  clock = 1_000;
  await store.commit([{ ledger: depositEvent("deposit:c", "c", 10_000n, 0) }]);
});
afterEach(() => store.close());

describe("node shares: distributions a stop left undone", () => {
  it("distributes at start-up what settles paid since the issue with no distribution, once", async () => {
    await settled("before", 700n, 500); // before the shares existed: the provider's alone
    const first = service();
    await first.issue(P, 100n);
    await first.transfer(P, P, "alice", 50n);
    await settled("lost", 1_000n, 2_000); // the gateway stopped before its distribution
    await settled("done", 400n, 2_100);
    await first.onEarnings(P, "done", 400n);

    const restarted = service();
    expect(await restarted.recover()).toBe(1);
    expect(await restarted.recover()).toBe(0);
    const view = await restarted.view(P);
    expect(view.holders.find((h) => h.holder === "alice")?.claimable).toBe("700"); // half of 1,000 + 400
    expect(await store.balance(sharesAccounts.pool(P))).toBe(1_400n);
    expect(await store.balance(sharesAccounts.earnings(P))).toBe(700n);
    expect(checkInvariants(await store.balances()).ok).toBe(true);
  });
});
