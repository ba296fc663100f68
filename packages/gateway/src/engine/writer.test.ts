// Group commit over a real SQLite store: patient writes wait for company, any other write
// commits at the end of its turn and takes the waiting ones with it.
import { openStore, type Store } from "@tessera/store";
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import { testJob } from "../verification/test-nodes.js";
import { GroupWriter } from "./writer.js";

let store: Store;
let commits: MockInstance<Store["commit"]>;

beforeEach(async () => {
  // only the linger timer is faked: turns of the event loop (setImmediate) stay real
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
  store = await openStore(":memory:");
  commits = vi.spyOn(store, "commit");
});

afterEach(async () => {
  vi.useRealTimers();
  await store.close();
});

const queued = (id: string) =>
  testJob(id, "p", { status: "queued", attempt: 0, providerId: null, cost: null, output: null });
const nextTurn = () => new Promise((r) => setImmediate(r));
const opsPerCommit = () => commits.mock.calls.map(([ops]) => ops.length);

describe("GroupWriter", () => {
  it("holds patient writes from several turns until the linger ends, then commits them together", async () => {
    const writer = new GroupWriter(store, 500, () => {}, 4);
    const written = ["job_a", "job_b", "job_c"].map(async (id, i) => {
      for (let t = 0; t < i; t++) await nextTurn();
      return writer.write({ job: queued(id) }, true);
    });
    for (let t = 0; t < 4; t++) await nextTurn();
    expect(commits).not.toHaveBeenCalled();
    vi.advanceTimersByTime(4);
    expect((await Promise.all(written)).every((r) => r.ok)).toBe(true);
    expect(opsPerCommit()).toEqual([3]);
    expect((await store.getJob("job_c"))?.status).toBe("queued");
  });

  it("commits any other write at the end of its turn, with the patient ones waiting", async () => {
    const writer = new GroupWriter(store, 500, () => {}, 60_000);
    const patient = writer.write({ job: queued("job_a") }, true);
    await nextTurn();
    const urgent = writer.write({ job: queued("job_b") });
    // the linger timer is never advanced: only the urgent write can have flushed the patient one
    expect([(await patient).ok, (await urgent).ok]).toEqual([true, true]);
    expect(opsPerCommit()).toEqual([2]);
  });

  it("with no linger, patient writes commit at the end of their turn like any other", async () => {
    const writer = new GroupWriter(store, 500, () => {}, 0);
    expect((await writer.write({ job: queued("job_a") }, true)).ok).toBe(true);
    expect(opsPerCommit()).toEqual([1]);
  });

  it("does not wait for the linger once a full group is pending", async () => {
    const writer = new GroupWriter(store, 2, () => {}, 60_000);
    const rs = ["job_a", "job_b", "job_c"].map((id) => writer.write({ job: queued(id) }, true));
    expect((await Promise.all(rs.slice(0, 2))).every((r) => r.ok)).toBe(true);
    expect(opsPerCommit()).toEqual([2]);
    vi.advanceTimersByTime(60_000);
    expect((await rs[2])?.ok).toBe(true);
    expect(opsPerCommit()).toEqual([2, 1]);
  });
});
