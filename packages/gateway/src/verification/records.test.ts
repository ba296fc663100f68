// Per-node records on a real in-memory store: each verification tick writes the records that
// changed, which for nodes that are gone is not every tick, while their absence still counts
// against their uptime.
import { openStore, type Store } from "@tessera/store";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GroupWriter } from "../engine/writer.js";
import { VerificationConfigSchema } from "./config.js";
import { VerificationCoordinator } from "./coordinator.js";
import { type TestNode, testNode } from "./test-nodes.js";

let store: Store;
let now = 0;

beforeEach(async () => {
  store = await openStore(":memory:");
  now = 0;
});

afterEach(async () => {
  await store.close();
});

async function coordinator(nodes: TestNode[]): Promise<VerificationCoordinator> {
  const c = new VerificationCoordinator({
    store,
    writer: new GroupWriter(store),
    sessions: () => nodes.filter((n) => n.session.online).map((n) => n.session),
    config: VerificationConfigSchema.parse({}),
    log: pino({ level: "silent" }),
    now: () => now,
  });
  await c.restoreRecords();
  return c;
}

/** One verification tick of `dt` ms; returns how many records it wrote. */
async function tick(c: VerificationCoordinator, dt: number): Promise<number> {
  now++;
  await c.tickRecords(dt);
  return (await store.reputation.nodeRecords()).filter((r) => r.updatedAt === now).length;
}

const gone = Array.from({ length: 1000 }, (_, i) => `n${String(i).padStart(4, "0")}`.padEnd(64, "0"));

describe("node records", () => {
  it("are not rewritten every tick for nodes that are gone, whose absence still counts against uptime", async () => {
    const a = testNode("op-a", false);
    const c = await coordinator([a]);
    c.record(a.session.id);
    for (const id of gone) c.record(id);
    expect(await tick(c, 500)).toBe(1001);
    // from now on only the online node's record changes
    expect(await tick(c, 500)).toBe(1);
    expect(await tick(c, 500)).toBe(1);
    expect(c.view(gone[0] as string).uptime).toBe(0);
    expect(c.view(a.session.id).uptime).toBe(1);

    // a leaves for four ticks: its seen time goes on, its record is not written
    a.session.online = false;
    for (let i = 0; i < 4; i++) expect(await tick(c, 500)).toBe(0);
    expect(c.view(a.session.id).uptime).toBeCloseTo(1500 / 3500);
    a.session.online = true;
    expect(await tick(c, 500)).toBe(1);
    expect(c.view(a.session.id).uptime).toBeCloseTo(2000 / 4000);
  });

  it("write a gone node's seen time once it grew by a minute, so the next run counts it", async () => {
    const c = await coordinator([]);
    for (const id of gone) c.record(id);
    expect(await tick(c, 500)).toBe(1000);
    expect(await tick(c, 500)).toBe(0);
    expect(await tick(c, 60_000)).toBe(1000);
    const rows = await store.reputation.nodeRecords();
    expect(rows.map((r) => r.record.seenMs)).toEqual(gone.map(() => 61_000));
  });
});
