// Audit fees under on-chain settlement must not come out of protocol:fees: each redemption's mirror
// debits that account by the full fee of the jobs redeemed, and a short account refused it.

import { accounts, checkInvariants, depositEvent, FEES, redemptionEvent } from "@tessera/core";
import { openStore } from "@tessera/store";
import pino from "pino";
import { expect, it } from "vitest";
import { GroupWriter } from "../engine/writer.js";
import type { ChainVerification } from "../verification/chain.js";
import { VerificationConfigSchema } from "../verification/config.js";
import { VerificationCoordinator } from "../verification/coordinator.js";
import { testJob } from "../verification/test-nodes.js";
import { settledJob } from "./test-ledger.js";

it("pays a verifier's audit fee under evm without leaving the next redemption's mirror short of fees", async () => {
  const store = await openStore(":memory:");
  try {
    const writer = new GroupWriter(store);
    const ok = async (ev: Parameters<GroupWriter["write"]>[0]["ledger"]) => {
      const r = await writer.write({ ledger: ev });
      if (!r.ok) throw r.error;
    };
    await ok(depositEvent("chain:d", "c1", 10_000n, 0));
    for (const jobId of ["j1", "j2", "j3"])
      for (const ev of settledJob({ jobId, consumerId: "c1", providerId: "p1", cost: 1_000n, feeBps: 500, at: 1 }))
        await ok(ev);
    const coordinator = new VerificationCoordinator({
      store,
      writer,
      sessions: () => [],
      config: VerificationConfigSchema.parse({ auditFeeBps: 1_000 }),
      log: pino({ level: "silent" }),
    });
    coordinator.chain = {} as ChainVerification;
    await coordinator.payCanaryFee("a1", testJob("j1", "p1", { cost: 1_000n }), "v1");
    expect(await store.balance(accounts.earnings("v1"))).toBe(100n);
    // the provider redeems the voucher for all three jobs: gross 3000, net 2850, fee 150
    const r = await writer.write({
      ledger: redemptionEvent({
        id: "chain:1:0xaa:0",
        providerId: "p1",
        voucher: { cumulative: 3_000n, net: 2_850n },
        previous: { cumulative: 0n, net: 0n },
        at: 4,
      }),
    });
    expect(r.ok).toBe(true);
    expect(await store.balance(FEES)).toBe(0n);
    expect(await store.balance(accounts.earnings("p1"))).toBe(0n);
    expect(checkInvariants(await store.balances()).problems).toEqual([]);
  } finally {
    await store.close();
  }
});
