// Unbonding against audits still undecided: stake unbonded right after a cheated result is still
// there when the audit, parked for want of a verifier, is decided after the unbonding delay.
import { accounts, checkInvariants, depositEvent, stakeAccounts, stakeDepositEvent } from "@tessera/core";
import { openStore } from "@tessera/store";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { GroupWriter } from "../engine/writer.js";
import { VerificationConfigSchema } from "./config.js";
import { VerificationCoordinator } from "./coordinator.js";
import { type TestNode, testJob, testNode, verdictOf } from "./test-nodes.js";

describe("stake unbonding while an audit is undecided", () => {
  it("is not paid out while the provider has an audit parked; the slash takes it and refunds the consumer", async () => {
    const store = await openStore(":memory:");
    const writer = new GroupWriter(store);
    const provider = testNode("op-p", false);
    const verifiers = [testNode("op-1", true), testNode("op-2", true)];
    for (const v of verifiers) v.session.online = false;
    const P = provider.session.id;
    await store.commit([
      { ledger: depositEvent("deposit:c", "c1", 1000n, 0) },
      { ledger: stakeDepositEvent("stake:p", P, 6000n, 0) },
    ]);
    let now = 1_000;
    const coordinator = new VerificationCoordinator({
      store,
      writer,
      sessions: () => [provider, ...verifiers].filter((n) => n.session.online).map((n) => n.session),
      config: VerificationConfigSchema.parse({
        policy: { newRate: 1, floorRate: 1, afterFailureRate: 1, slashMultiple: 40 },
        passRecheckRate: 0,
        unbondingMs: 60_000,
      }),
      log: pino({ level: "silent" }),
      random: () => 0,
      now: () => now,
    });
    await coordinator.restoreRecords();
    const settle = async () => {
      for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
      await writer.drain();
    };
    const job = testJob("job_1", P, { consumerId: "c1", cost: 100n });
    await store.commit([{ job }]);
    // the result settles and is drawn for audit; no verifier is online, so the audit is parked
    coordinator.onSettled(job);
    await settle();
    expect(coordinator.pendingAudits()).toBe(0);
    // the provider unbonds everything at once and waits out the delay
    await coordinator.stakes.unbond(P, 6000n, "u1");
    now += 60_001;
    await coordinator.stakes.releaseDue();
    expect(await store.balance(stakeAccounts.unbonding(P))).toBe(6000n);
    // verifiers come online and both fail the result
    for (const v of verifiers) v.session.online = true;
    await coordinator.resumeParked();
    await settle();
    const failAsked = async (n: TestNode) => {
      for (const m of n.sent)
        if (m.type === "audit") await coordinator.onVerdict(n.session, verdictOf(n, m.auditId, m.jobId, false));
      await settle();
    };
    await failAsked(verifiers[0] as TestNode);
    await failAsked(verifiers[1] as TestNode);
    expect(coordinator.view(P).slashed).toBe("4000");
    expect(await store.balance(accounts.available("c1"))).toBe(1100n);
    // once the audit is decided, what the slash left is paid out
    await coordinator.stakes.releaseDue();
    expect(await store.balance(stakeAccounts.unbonding(P))).toBe(0n);
    expect(checkInvariants(await store.balances()).ok).toBe(true);
    await store.close();
  });
});
