// Node shares on the local ledger through the HTTP API, with a real gateway and provider: the
// provider issues shares with requests signed by its node key, sells some, earns from real jobs,
// and the holders claim their pro-rata part. Bad requests are refused and change nothing.
import { join } from "node:path";
import { feeOf } from "@tessera/core";
import { canonicalHash, type Identity, loadKeyFile, signNodeRequest } from "@tessera/protocol";
import { loadBuiltinModule } from "@tessera/runtimes";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestNetwork, until } from "../helpers/network.js";

interface SharesView {
  supply: string;
  holders: { holder: string; shares: string; claimable: string }[];
}

describe("node shares on the local ledger", () => {
  const net = new TestNetwork();
  let node: Identity;
  let beforeStart: number;

  beforeAll(async () => {
    beforeStart = Date.now() - 1_000;
    await net.startGateway();
    await net.startProvider({ region: "r1", runtimes: ["wasm"] });
    await net.waitForProviders(1);
    node = loadKeyFile(join(net.dir, "provider-1", "node.key"));
  }, 120_000);
  afterAll(() => net.stop());

  /** a request as the provider (signed with its node key), the admin, or nobody */
  async function call(method: string, path: string, body: unknown, as: "node" | "admin" | "none") {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (as === "node")
      Object.assign(headers, signNodeRequest(node, `${method} ${path} ${canonicalHash(body)}`, Date.now()));
    if (as === "admin") headers.authorization = `Bearer ${net.adminKey}`;
    const res = await fetch(`${net.url}${path}`, { method, headers, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }
  const view = async () => (await (await fetch(`${net.url}/v1/shares/${node.id}`)).json()) as SharesView;
  const holder = (v: SharesView, h: string) => v.holders.find((x) => x.holder === h);

  it("issues, transfers, pays holders pro rata from real earnings, and claims", async () => {
    expect((await fetch(`${net.url}/v1/shares/${node.id}`)).status).toBe(404);
    expect((await call("POST", "/v1/provider/shares/issue", { supply: "1000" }, "none")).status).toBe(401);
    const issued = await call("POST", "/v1/provider/shares/issue", { supply: "1000" }, "node");
    expect(issued.status).toBe(201);
    expect(issued.body).toMatchObject({ supply: "1000", holders: [{ holder: node.id, shares: "1000" }] });

    // refused, and nothing changes: a second issue, a bad count, selling more than held
    expect((await call("POST", "/v1/provider/shares/issue", { supply: "5" }, "node")).body).toMatchObject({
      error: { code: "shares_conflict" },
    });
    expect((await call("POST", "/v1/provider/shares/transfer", { to: "alice", shares: "-3" }, "node")).status).toBe(
      400,
    );
    expect((await call("POST", "/v1/provider/shares/transfer", { to: "alice", shares: "2000" }, "node")).status).toBe(
      409,
    );
    expect(await view()).toMatchObject({ supply: "1000", holders: [{ holder: node.id, shares: "1000" }] });

    const sold = await call("POST", "/v1/provider/shares/transfer", { to: "alice", shares: "250" }, "node");
    expect(sold.status).toBe(200);
    expect(holder(sold.body as unknown as SharesView, "alice")?.shares).toBe("250");

    // a signed request is carried out once: the same headers sent again, as anyone who saw them could,
    // are refused and move nothing; so is a request signed before the gateway started
    const sale = { to: "bob", shares: "10" };
    const signed = (time: number) => ({
      "content-type": "application/json",
      ...signNodeRequest(node, `POST /v1/provider/shares/transfer ${canonicalHash(sale)}`, time),
    });
    const send = (headers: Record<string, string>) =>
      fetch(`${net.url}/v1/provider/shares/transfer`, { method: "POST", headers, body: JSON.stringify(sale) });
    const once = signed(Date.now());
    expect((await send(once)).status).toBe(200);
    const again = await send(once);
    expect(again.status).toBe(409);
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe("request_replayed");
    expect((await send(signed(beforeStart))).status).toBe(401);
    expect(holder(await view(), "bob")?.shares).toBe("10");
    expect(holder(await view(), node.id)?.shares).toBe("740");

    // real work earns the provider money, which now flows to its holders' pool
    const { client } = await net.consumer();
    const reverse = (await client.uploadBlob(await loadBuiltinModule("reverse"))).id;
    let earned = 0n; // what the provider earns: the cost less the gateway's fee (default 500 bps)
    for (let i = 0; i < 8; i++) {
      const job = await client.submitJob({
        runtime: "wasm",
        module: reverse,
        input: { data: Buffer.from(`job ${i}`).toString("base64") },
      });
      const done = await client.waitForJob(job.id);
      expect(done.status).toBe("completed");
      earned += BigInt(done.cost!) - feeOf(BigInt(done.cost!), 500);
    }
    // distribution follows settlement asynchronously; rounding may leave a nano-credit per holder per job
    const dust = 2n * 8n;
    const claimables = (v: SharesView) => [
      BigInt(holder(v, "alice")?.claimable ?? "0"),
      BigInt(holder(v, node.id)?.claimable ?? "0"),
    ];
    const v = await until("earnings distributed", async () => {
      const x = await view();
      const [a = 0n, o = 0n] = claimables(x);
      return a + o >= earned - dust ? x : undefined;
    });
    const [alice = 0n, own = 0n] = claimables(v);
    expect(alice + own).toBeLessThanOrEqual(earned);
    // 250 of 1,000 shares: a quarter of what was earned, up to rounding
    expect(alice * 4n).toBeGreaterThanOrEqual(earned - 4n * dust);
    expect(alice * 4n).toBeLessThanOrEqual(earned);

    const claimed = await call("POST", "/v1/admin/shares/claim", { providerId: node.id, holder: "alice" }, "admin");
    expect(claimed.body).toMatchObject({ object: "share_claim", holder: "alice", amount: alice.toString() });
    const mine = await call("POST", "/v1/provider/shares/claim", { providerId: node.id }, "node");
    expect(mine.body).toMatchObject({ holder: node.id, amount: own.toString() });
    const after = await view();
    expect(holder(after, "alice")).toMatchObject({ shares: "250", claimable: "0" });
    expect(holder(after, node.id)).toMatchObject({ shares: "740", claimable: "0" });
    // a claim with nothing due pays nothing; the admin endpoints want the admin key
    expect((await call("POST", "/v1/provider/shares/claim", { providerId: node.id }, "node")).body).toMatchObject({
      amount: "0",
    });
    expect((await call("POST", "/v1/admin/shares/claim", { providerId: node.id, holder: "x" }, "none")).status).toBe(
      401,
    );
    expect((await net.admin.ledger()).ok).toBe(true);
  }, 180_000);
});
