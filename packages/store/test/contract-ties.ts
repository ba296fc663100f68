// Contract, part 7: rankings and lists whose sort key ties come out in the same order on every
// dialect (by id), whatever order the rows were written in. Each test writes in reverse id order.
import { expect, it } from "vitest";
import type { Harness } from "./contract.js";
import { slash } from "./contract-chain.js";
import { audit, verdict } from "./contract-verification.js";
import { capabilities, makeBatch, makeJob, makeProvider } from "./fixtures.js";

export function tiesContract(h: Harness): void {
  it("ranks providers with equal work by id on the leaderboard", async () => {
    const ids = ["p-d", "p-c", "p-b", "p-a"];
    await h.store.commit(
      ids.map((p, i) => ({
        job: makeJob(`job-${p}`, {
          status: "completed",
          providerId: p,
          cost: 10n,
          units: { inputTokens: 1, outputTokens: 1, standardUnits: 100 },
          createdAt: 1_000 + i,
          startedAt: 1_100 + i,
          finishedAt: 1_200 + i,
        }),
      })),
    );
    expect((await h.store.explorer.leaderboard(2)).map((r) => r.providerId)).toEqual(["p-a", "p-b"]);
    expect((await h.store.explorer.leaderboard(10)).map((r) => r.providerId)).toEqual(["p-a", "p-b", "p-c", "p-d"]);
  });

  it("lists regions with as many providers by name, a provider without one last", async () => {
    const at = (id: string, region: string | undefined) =>
      makeProvider(id, { capabilities: { ...capabilities, region: region as string } });
    await h.store.commit(
      [
        at("n-1", undefined),
        at("u-1", "us-east"),
        at("e-1", "eu-west"),
        at("a-1", "ap-south"),
        at("a-2", "ap-south"),
        at("s-1", "sa-east"),
      ].map((provider) => ({ provider })),
    );
    expect((await h.store.explorer.regions()).map((r) => [r.region, r.providers])).toEqual([
      ["ap-south", 2],
      ["eu-west", 1],
      ["sa-east", 1],
      ["us-east", 1],
      ["unknown", 1],
    ]);
  });

  it("orders audits, verdicts, unbondings, batches and slashes made at the same moment by id", async () => {
    const v = h.store.verification;
    for (const id of ["a3", "a2", "a1"]) await v.putAudit(audit(id, "j1", { createdAt: 100 }));
    for (const id of ["v3", "v2", "v1"]) await v.putVerdict(verdict("a1", "j1", id, true, 150));
    expect((await v.recentAudits(2)).map((a) => a.id)).toEqual(["a3", "a2"]);
    const ofJob = await v.auditsOfJob("j1");
    expect(ofJob.map((a) => a.id)).toEqual(["a1", "a2", "a3"]);
    expect(ofJob[0]?.verdicts.map((x) => x.verifierId)).toEqual(["v1", "v2", "v3"]);
    expect((await v.pendingAudits(10))[0]?.verdicts.map((x) => x.verifierId)).toEqual(["v1", "v2", "v3"]);

    for (const id of ["u3", "u2", "u1"])
      await v.addUnbonding({ id, providerId: "p1", amount: 1n, releaseAt: 500, released: false });
    expect((await h.store.verification.openUnbondings("p1")).map((u) => u.id)).toEqual(["u1", "u2", "u3"]);

    for (const id of ["b3", "b2", "b1"]) await h.store.batches.putBatch(makeBatch(id, 1_000));
    expect((await h.store.batches.unfinishedBatches()).map((b) => b.id)).toEqual(["b1", "b2", "b3"]);

    for (const id of ["s3", "s2", "s1"]) await h.store.chain.putSlash(slash(id, { nextAt: 10 }));
    expect((await h.store.chain.pendingSlashes()).map((s) => s.auditId)).toEqual(["s1", "s2", "s3"]);
  });
}
