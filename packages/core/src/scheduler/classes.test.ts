import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { JobClass } from "../job/types.js";
import { preemptions, priceFor } from "./classes.js";
import { type ScheduleInput, schedule } from "./schedule.js";
import type { ProviderView } from "./types.js";

const MODEL = "aa".repeat(32);
const OTHER = "bb".repeat(32);
type QueuedJob = ScheduleInput["queued"][number];

function provider(id: string, caps: Partial<ProviderView["capabilities"]> = {}, running = 0): ProviderView {
  return {
    id,
    capabilities: {
      runtimes: ["llm"],
      models: [{ id: MODEL, name: "m", parameters: 1_000_000, contextSize: 2048 }],
      pricePerUnit: 10,
      region: "eu-west",
      maxConcurrency: 2,
      throughput: 100,
      ...caps,
    },
    running,
    reputation: 0.5,
    latencyMs: null,
    draining: false,
    online: true,
  };
}

function job(id: string, consumerId: string, jobClass: JobClass, model = MODEL): QueuedJob & { createdAt: number } {
  return {
    id,
    consumerId,
    jobClass,
    spec: {
      runtime: "llm",
      model,
      input: { prompt: "hi" },
      params: { temperature: 0 },
      limits: { maxOutputTokens: 4 },
    },
    constraints: {},
    triedProviders: [],
    createdAt: 0,
  };
}

describe("job classes in the scheduler", () => {
  it("charges batch jobs the batch price and interactive jobs the regular price", () => {
    const p = provider("p", { pricePerUnit: 10, batchPricePerUnit: 4, maxConcurrency: 2 });
    const out = schedule({ queued: [job("b", "c1", "batch"), job("i", "c1", "interactive")], providers: [p] });
    expect(Object.fromEntries(out.map((a) => [a.jobId, a.pricePerUnit]))).toEqual({ b: 4, i: 10 });
  });

  it("sends batch work to the cheapest batch price and interactive work to the cheapest regular price", () => {
    // cheap for chat, dear for batch; and the other way round
    const chatty = provider("chatty", { pricePerUnit: 10, batchPricePerUnit: 9 });
    const bulk = provider("bulk", { pricePerUnit: 20, batchPricePerUnit: 2 });
    const out = schedule({
      queued: [job("b", "c1", "batch"), job("i", "c2", "interactive")],
      providers: [chatty, bulk],
    });
    expect(Object.fromEntries(out.map((a) => [a.jobId, [a.providerId, a.pricePerUnit]]))).toEqual({
      b: ["bulk", 2],
      i: ["chatty", 10],
    });
  });

  it("never prices batch work above the interactive price", () => {
    fc.assert(
      fc.property(fc.nat(1000), fc.option(fc.nat(1000), { nil: undefined }), (price, batch) => {
        const caps = { pricePerUnit: price, batchPricePerUnit: batch };
        expect(priceFor(caps, "batch")).toBeLessThanOrEqual(priceFor(caps, "interactive"));
        expect(priceFor(caps, "interactive")).toBe(price);
      }),
    );
  });

  it("gives the last free slot to a waiting interactive job, not to the older batch backlog", () => {
    const queued = [
      ...Array.from({ length: 50 }, (_, i) => job(`b${i}`, "bulk", "batch")),
      job("i1", "chat", "interactive"),
    ];
    const out = schedule({ queued, providers: [provider("p", { maxConcurrency: 3 }, 2)] });
    expect(out.map((a) => a.jobId)).toEqual(["i1"]);
  });

  it("lets a second consumer's batch in at once beside a large batch from the first", () => {
    const queued = [
      ...Array.from({ length: 200 }, (_, i) => job(`a${i}`, "a", "batch")),
      ...Array.from({ length: 3 }, (_, i) => job(`b${i}`, "b", "batch")),
    ];
    const out = schedule({
      queued,
      providers: [provider("p", { maxConcurrency: 4 })],
      lastServed: new Map([["a", 1]]),
    });
    const byConsumer = out.map((a) => a.jobId[0]);
    expect(byConsumer.filter((c) => c === "b")).toHaveLength(2);
    expect(byConsumer.filter((c) => c === "a")).toHaveLength(2);
  });

  it("never leases a consumer more than its concurrency cap", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom("a", "b", "c"), fc.constantFrom<JobClass>("batch", "interactive")), {
          maxLength: 60,
        }),
        fc.integer({ min: 1, max: 5 }),
        fc.dictionary(fc.constantFrom("a", "b", "c"), fc.nat(6)),
        (jobs, cap, already) => {
          const running = new Map(Object.entries(already));
          const out = schedule({
            queued: jobs.map(([c, k], i) => job(`j${i}`, c, k)),
            providers: [provider("p", { maxConcurrency: 16 }), provider("q", { maxConcurrency: 16 })],
            consumerRunning: running,
            maxRunningPerConsumer: cap,
          });
          const consumerOf = new Map(jobs.map(([c], i) => [`j${i}`, c]));
          for (const c of ["a", "b", "c"]) {
            const got = out.filter((a) => consumerOf.get(a.jobId) === c).length;
            if (got > 0) expect((running.get(c) ?? 0) + got).toBeLessThanOrEqual(cap);
          }
        },
      ),
    );
  });
});

describe("preemptions", () => {
  const providers = [
    provider("p"),
    provider("q", { models: [{ id: OTHER, name: "o", parameters: 1, contextSize: 8 }] }),
  ];

  it("takes back the most recently leased batch job on a provider that can run the waiting job", () => {
    const out = preemptions({
      waiting: [job("i", "c", "interactive")],
      providers,
      runningBatch: [
        { jobId: "old", providerId: "p", consumerId: "bulk", leasedAt: 10 },
        { jobId: "new", providerId: "p", consumerId: "bulk", leasedAt: 20 },
        { jobId: "elsewhere", providerId: "q", consumerId: "bulk", leasedAt: 30 },
      ],
      now: 5_000,
      afterMs: 1_000,
    });
    expect(out).toEqual([{ jobId: "new", providerId: "p", forJobId: "i" }]);
  });

  it("interrupts nothing for jobs that have not waited long enough, or when no batch job could make room", () => {
    const base = { providers, now: 500, afterMs: 1_000 };
    expect(
      preemptions({
        ...base,
        waiting: [job("i", "c", "interactive")],
        runningBatch: [{ jobId: "b", providerId: "p", consumerId: "bulk", leasedAt: 0 }],
      }),
    ).toEqual([]);
    expect(
      preemptions({
        ...base,
        now: 5_000,
        waiting: [job("i", "c", "interactive")],
        runningBatch: [{ jobId: "b", providerId: "q", consumerId: "bulk", leasedAt: 0 }],
      }),
    ).toEqual([]);
  });

  it("takes nothing back for a waiting job whose deadline has passed: no round would lease it", () => {
    const out = preemptions({
      waiting: [{ ...job("i", "c", "interactive"), deadlineAt: 4_000 }],
      providers,
      runningBatch: [
        { jobId: "b1", providerId: "p", consumerId: "bulk", leasedAt: 10 },
        { jobId: "b2", providerId: "p", consumerId: "bulk", leasedAt: 20 },
      ],
      now: 5_000,
      afterMs: 1_000,
    });
    expect(out).toEqual([]);
  });

  it("preempts at most one batch job per waiting interactive job and never the same job twice", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max: 10 }), (waitingN, runningN) => {
        const out = preemptions({
          waiting: Array.from({ length: waitingN }, (_, i) => job(`i${i}`, "c", "interactive")),
          providers: [provider("p", { maxConcurrency: Math.max(1, runningN) }, runningN), providers[1]!],
          runningBatch: Array.from({ length: runningN }, (_, i) => ({
            jobId: `b${i}`,
            providerId: "p",
            consumerId: "bulk",
            leasedAt: i,
          })),
          now: 10_000,
          afterMs: 0,
        });
        expect(out).toHaveLength(Math.min(waitingN, runningN));
        expect(new Set(out.map((p) => p.jobId)).size).toBe(out.length);
      }),
    );
  });

  it("interrupts nothing on a provider with a free slot: the waiting job is held back by something else", () => {
    expect(
      preemptions({
        waiting: [job("i", "c", "interactive")],
        providers: [provider("p", { maxConcurrency: 3 }, 2)],
        runningBatch: [
          { jobId: "b1", providerId: "p", consumerId: "bulk", leasedAt: 1 },
          { jobId: "b2", providerId: "p", consumerId: "bulk", leasedAt: 2 },
        ],
        now: 10_000,
        afterMs: 0,
      }),
    ).toEqual([]);
  });

  it("frees a slot for a consumer at its concurrency cap only by taking back one of its own batch jobs", () => {
    const base = {
      waiting: [job("i", "chat", "interactive")],
      providers: [provider("p", { maxConcurrency: 2 }, 2)],
      now: 10_000,
      afterMs: 0,
      maxRunningPerConsumer: 1,
    };
    const others = [
      { jobId: "b1", providerId: "p", consumerId: "bulk", leasedAt: 1 },
      { jobId: "b2", providerId: "p", consumerId: "bulk", leasedAt: 2 },
    ];
    // chat already runs its one job elsewhere: interrupting bulk would only hand bulk its slot back
    expect(preemptions({ ...base, runningBatch: others, consumerRunning: new Map([["chat", 1]]) })).toEqual([]);
    const own = [others[1]!, { jobId: "mine", providerId: "p", consumerId: "chat", leasedAt: 0 }];
    expect(preemptions({ ...base, runningBatch: own, consumerRunning: new Map([["chat", 1]]) })).toEqual([
      { jobId: "mine", providerId: "p", forJobId: "i" },
    ]);
    // under its cap, the most recent batch lease goes, whoever's it is
    expect(preemptions({ ...base, runningBatch: own, consumerRunning: new Map([["chat", 0]]) })).toEqual([
      { jobId: "b2", providerId: "p", forJobId: "i" },
    ]);
  });

  it("every preemption lets the next scheduling round lease a waiting interactive job (no release loop)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom("a", "b", "c"), fc.constantFrom<JobClass>("batch", "interactive")), {
          minLength: 1,
          maxLength: 30,
        }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 0, max: 2 }),
        (jobs, cap, conc, prefetch) => {
          const all = jobs.map(([c, k], i) => job(`j${i}`, c, k));
          const p = (running: number) => provider("p", { maxConcurrency: conc, prefetch }, running);
          // first round: leases what fits, as the engine would
          const first = schedule({ queued: all, providers: [p(0)], maxRunningPerConsumer: cap });
          const leased = new Set(first.map((a) => a.jobId));
          const running = all.filter((j) => leased.has(j.id));
          const perConsumer = (list: typeof all) => {
            const m = new Map<string, number>();
            for (const j of list) m.set(j.consumerId, (m.get(j.consumerId) ?? 0) + 1);
            return m;
          };
          const waiting = all.filter((j) => !leased.has(j.id));
          const out = preemptions({
            waiting,
            providers: [p(running.length)],
            runningBatch: running
              .filter((j) => j.jobClass === "batch")
              .map((j, i) => ({ jobId: j.id, providerId: "p", consumerId: j.consumerId, leasedAt: i })),
            now: 10_000,
            afterMs: 0,
            consumerRunning: perConsumer(running),
            maxRunningPerConsumer: cap,
          });
          if (out.length === 0) return;
          const back = new Set(out.map((o) => o.jobId));
          const still = running.filter((j) => !back.has(j.id));
          const next = schedule({
            queued: [...waiting, ...running.filter((j) => back.has(j.id))],
            providers: [p(still.length)],
            consumerRunning: perConsumer(still),
            maxRunningPerConsumer: cap,
          });
          const interactive = new Set(waiting.filter((j) => j.jobClass !== "batch").map((j) => j.id));
          expect(next.some((a) => interactive.has(a.jobId))).toBe(true);
        },
      ),
    );
  });

  it("fills prefetch slots with batch work only, and only while no interactive job waits", () => {
    const p = provider("p", { maxConcurrency: 1, prefetch: 2 });
    const batch = ["b1", "b2", "b3", "b4"].map((id) => job(id, "c1", "batch"));
    // batch alone: the slot and both prefetch slots
    expect(schedule({ queued: batch, providers: [p] }).map((a) => a.jobId)).toEqual(["b1", "b2", "b3"]);
    // interactive work is never leased into a prefetch slot
    const busy = provider("p", { maxConcurrency: 1, prefetch: 2 }, 1);
    expect(schedule({ queued: [job("i", "c2", "interactive")], providers: [busy] })).toEqual([]);
    // while interactive work waits, batch yields: no prefetch for it either
    expect(schedule({ queued: [job("i", "c2", "interactive"), ...batch], providers: [busy] })).toEqual([]);
    const idle = provider("p", { maxConcurrency: 1, prefetch: 2 });
    expect(
      schedule({ queued: [job("i", "c2", "interactive"), ...batch], providers: [idle] }).map((a) => a.jobId),
    ).toEqual(["i"]);
  });

  it("never leases a provider more than its concurrency plus its prefetch, nor interactive work past its concurrency", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 7 }),
        fc.array(fc.boolean(), { maxLength: 12 }),
        (conc, prefetch, running, classes) => {
          const p = provider("p", { maxConcurrency: conc, prefetch }, Math.min(running, conc + prefetch));
          const queued = classes.map((b, i) => job(`j${i}`, `c${i % 3}`, b ? "batch" : "interactive"));
          const out = schedule({ queued, providers: [p] });
          const interactive = out.filter((a) => queued.find((j) => j.id === a.jobId)?.jobClass === "interactive");
          expect(p.running + out.length).toBeLessThanOrEqual(Math.max(p.running, conc + prefetch));
          expect(p.running + interactive.length).toBeLessThanOrEqual(Math.max(p.running, conc));
          if (queued.some((j) => j.jobClass === "interactive"))
            expect(p.running + out.length).toBeLessThanOrEqual(Math.max(p.running, conc));
        },
      ),
    );
  });

  it("takes back prefetched leases too, newest first, so that a waiting interactive job gets a slot", () => {
    const p = provider("p", { maxConcurrency: 1, prefetch: 2 }, 3);
    const out = preemptions({
      waiting: [job("i", "c", "interactive")],
      providers: [p],
      runningBatch: [
        { jobId: "running", providerId: "p", consumerId: "bulk", leasedAt: 1 },
        { jobId: "prefetched-1", providerId: "p", consumerId: "bulk", leasedAt: 2 },
        { jobId: "prefetched-2", providerId: "p", consumerId: "bulk", leasedAt: 3 },
      ],
      now: 10_000,
      afterMs: 0,
    });
    expect(out.map((x) => x.jobId)).toEqual(["prefetched-2", "prefetched-1", "running"]);
  });
});
