// Griefing verifiers: two verifiers of made-up operators fail every result they are sent, to share
// the reporters' part of each slash, beside two honest verifiers. Run through the gateway's real
// VerificationCoordinator and CanaryService on an in-memory store and ledger (real signatures, real
// postings), with honest providers settling greedy jobs at the largest cost their stake backs; a
// slashed provider is excluded and a new honest one takes its place. Compared: no verifier stake
// and no known-good canary after a fail (--verifier-min-stake 0 --fail-canary-rate 0), against the
// defaults (--verifier-min-stake = --min-stake, burned when a canary verdict contradicts the known
// answer; --fail-canary-rate 1), with naive griefers and with griefers that look each audit's job
// up in the public audit record (GET /v1/jobs/:id/audits) and pass it when an audit of it passed
// already, as a known-good canary made of a passed real job was. All run today's rule that a
// dissent strike needs a majority vouched by canaries (core's majorityVouched). Canary jobs run as
// the gateway draws them (--canary-rate after each settled job, and one for a verifier whose fail
// found no known-good result), each on the real jobs' provider or on a second honest provider of
// another operator, at even odds. Each trial runs until both griefers are out or --jobs.
//   npx tsx bench/griefing.ts [--trials 40] [--jobs 400] [--seed 7]
import { EventEmitter } from "node:events";
import { CanaryPolicySchema, depositEvent, type JobRecord, stakeAccounts, stakeDepositEvent } from "@tessera/core";
import { GatewayConfigSchema } from "@tessera/gateway";
import { openStore } from "@tessera/store";
import pino from "pino";
import type { Engine, SubmitRequest } from "../packages/gateway/src/engine/engine.js";
import { GroupWriter } from "../packages/gateway/src/engine/writer.js";
import { CanaryService } from "../packages/gateway/src/verification/canaries.js";
import { VerificationConfigSchema } from "../packages/gateway/src/verification/config.js";
import { VerificationCoordinator } from "../packages/gateway/src/verification/coordinator.js";
import {
  auditsSent,
  TEST_MODEL,
  type TestNode,
  testJob,
  testNode,
  verdictOf,
} from "../packages/gateway/src/verification/test-nodes.js";
import { nonDefaultFlags, readFlags } from "./lib/flags.js";
import { seeded } from "./lib/llm-mix.js";
import { startBar, stopBars } from "./lib/progress.js";
import { commandLine, machine, type Row, writeResult } from "./lib/results.js";
import { fmt, summarize } from "./lib/stats.js";

const BENCH = "griefing";
const FLAGS = {
  trials: { help: "independent networks per rule set", default: 40 },
  jobs: { help: "settled jobs per trial at most (a trial ends once both griefers are excluded)", default: 400 },
  seed: { help: "seed of the draws", default: 7 },
};
const flags = readFlags(BENCH, FLAGS);
const t0 = performance.now();
const defaults = GatewayConfigSchema.parse({}).verification;
const MIN_STAKE = 40_000_000n;
/** the largest job a provider staked MIN_STAKE is leased (stake / slash multiple) */
const COST = MIN_STAKE / BigInt(defaults.policy.slashMultiple);
const output = { text: "xy", tokens: [1, 2], logprobs: [-1, -1], finishReason: "length" } as JobRecord["output"];
/** a greedy llm job with a deadline: a passed one is a template for canary jobs */
const spec = { runtime: "llm", model: TEST_MODEL, input: { prompt: "hi" }, limits: { maxOutputTokens: 8 } };

interface RuleSet {
  name: string;
  verifierMinStake: string;
  failRate: number;
  /** griefers pass what the public audit record shows passed, and fail the rest */
  lookUp: boolean;
}
const RULES: RuleSet[] = [
  { name: "no verifier stake, no canary after a fail", verifierMinStake: "0", failRate: 0, lookUp: false },
  {
    name: "defaults: verifier stake burned on a caught canary, known-good canary after a fail",
    verifierMinStake: MIN_STAKE.toString(),
    failRate: defaults.canaries.failRate,
    lookUp: false,
  },
  {
    name: "defaults, griefers that look each audit's job up in the public audit record",
    verifierMinStake: MIN_STAKE.toString(),
    failRate: defaults.canaries.failRate,
    lookUp: true,
  },
];

interface Trial {
  jobs: number;
  honestSlashed: number;
  honestVerifiersExcluded: number;
  griefersExcluded: boolean;
  /** what the griefers took in, in job costs: slash rewards and verdict fees */
  griefIncome: number;
  /** what they lost, in job costs: stake burned */
  griefBurned: number;
}

async function trial(rules: RuleSet, random: () => number): Promise<Trial> {
  const store = await openStore(":memory:");
  const writer = new GroupWriter(store);
  const griefers = [testNode("grief-1", true), testNode("grief-2", true)];
  const honest = [testNode("honest-1", true), testNode("honest-2", true)];
  const verifiers = [...griefers, ...honest];
  let provider = testNode("provider-0", false);
  /** a second honest provider, of another operator, that canary jobs may land on */
  const runner = testNode("runner", false);
  let canaries: CanaryService | undefined;
  const coordinator = new VerificationCoordinator({
    store,
    writer,
    sessions: () => [provider, ...verifiers].map((n) => n.session),
    config: VerificationConfigSchema.parse({
      minStake: MIN_STAKE.toString(),
      verifierMinStake: rules.verifierMinStake,
    }),
    log: pino({ level: "silent" }),
    random,
    onPassed: (job, asked, operator) => canaries?.onPassed(job, asked, operator),
    onFailed: (verifierId) => canaries?.afterFailed(verifierId),
  });
  await coordinator.restoreRecords();
  const submitted: SubmitRequest[] = [];
  const engine = {
    feed: new EventEmitter(),
    writer,
    models: new Map([[TEST_MODEL, { info: { id: TEST_MODEL, name: "tiny", parameters: 1000, contextSize: 256 } }]]),
    onlineSessions: () => [provider.session, runner.session],
    llmSubmits: new Map(),
    submit: async (req: SubmitRequest) => {
      submitted.push(req);
      return { id: `job_canary${submitted.length}`, createdAt: 0 };
    },
  } as unknown as Engine;
  canaries = new CanaryService({
    engine,
    store,
    coordinator,
    // replayWaitMs 0: known-wrong canaries in the old form at once, as the runs recorded so far had them
    // (a replayed one is made of a job settled undrawn, which this bench's loop does not offer)
    policy: CanaryPolicySchema.parse({
      ...defaults.canaries,
      failRate: rules.failRate,
      meanDelayMs: 0,
      replayWaitMs: 0,
    }),
    gatewayId: "bench",
    log: pino({ level: "silent" }),
    random,
  });
  const stake = async (n: TestNode, amount: bigint) => {
    await store.commit([{ ledger: stakeDepositEvent(`stake:${n.session.id}`, n.session.id, amount, 0) }]);
    await coordinator.stakes.refresh(n.session.id);
  };
  // protocol fees pay verdicts and canaries; every node holds the minimum stake
  await store.commit([
    {
      ledger: {
        id: "fees",
        kind: "deposit",
        at: 0,
        transfers: [{ from: "external", to: "protocol:fees", amount: 10n ** 15n }],
      },
    },
  ]);
  for (const n of [...verifiers, provider, runner]) await stake(n, MIN_STAKE);
  // the canary consumer's reserve, as the fees would fund it
  await store.commit([{ ledger: depositEvent("canary:fund:bench", canaries.consumerId, 10n ** 15n, 0) }]);
  const truth = new Map<string, string>();
  const answered = new Set<string>();
  /** verifiers answer what they were sent: griefers fail all, honest ones pass exactly the true results */
  const deliver = async () => {
    for (let round = 0; round < 50; round++) {
      await new Promise((r) => setTimeout(r, 0));
      await writer.drain();
      let any = false;
      for (const v of verifiers)
        for (const m of auditsSent(v)) {
          if (answered.has(m.auditId + v.session.id)) continue;
          answered.add(m.auditId + v.session.id);
          any = true;
          const passedBefore = async () =>
            (await store.verification.auditsOfJob(m.jobId)).some((a) => a.status === "passed");
          const pass = griefers.includes(v)
            ? rules.lookUp && (await passedBefore())
            : truth.get(m.jobId) === m.outputHash;
          const verdict = verdictOf(v, m.auditId, m.jobId, pass, { outputHash: m.outputHash });
          if (!(await canaries?.onVerdict(v.session, verdict))) await coordinator.onVerdict(v.session, verdict);
        }
      if (!any && round > 2) return;
    }
  };
  /** a completed job of `on`, in the store, its output the known answer */
  const settledJob = async (id: string, on: TestNode, consumerId?: string) => {
    const job = testJob(id, on.session.id, {
      ...(consumerId ? { consumerId } : {}),
      cost: COST,
      output,
      deadlineAt: 60_000,
      spec: spec as JobRecord["spec"],
    });
    truth.set(job.id, job.outputHash as string);
    await store.commit([{ job }]);
    return job;
  };
  /** canary jobs submitted run, each on the real jobs' provider or the runner, and give the known answer */
  let ran = 0;
  const runCanaries = async () => {
    while (ran < submitted.length) {
      ran++;
      const on = random() < 0.5 ? provider : runner;
      const job = await settledJob(`job_canary${ran}`, on, canaries?.consumerId);
      await canaries?.judge(job);
      await deliver();
    }
  };
  let slashed = 0;
  let jobs = 0;
  const excluded = (n: TestNode) => coordinator.isExcluded(n.session.id);
  /** sent no more audits: excluded, or its stake burned below what a verifier must hold */
  const out = (n: TestNode) => excluded(n) || coordinator.stakes.staked(n.session.id) < BigInt(rules.verifierMinStake);
  for (; jobs < flags.jobs && !griefers.every(out); jobs++) {
    if (excluded(provider)) {
      slashed++;
      provider = testNode(`provider-${slashed}`, false);
      await stake(provider, MIN_STAKE);
    }
    const job = await settledJob(`job_${jobs}`, provider);
    coordinator.onSettled(job);
    canaries.afterRealJob();
    await deliver();
    await runCanaries();
  }
  if (excluded(provider)) slashed++;
  const balance = async (account: string) => Number(await store.balance(account)) / Number(COST);
  let income = 0;
  let burned = 0;
  for (const g of griefers) {
    income += await balance(stakeAccounts.earnings(g.session.id));
    const left =
      (await balance(stakeAccounts.stake(g.session.id))) + (await balance(stakeAccounts.unbonding(g.session.id)));
    burned += Number(MIN_STAKE / COST) - left;
  }
  await store.close();
  return {
    jobs,
    honestSlashed: slashed,
    honestVerifiersExcluded: honest.filter(out).length,
    griefersExcluded: griefers.every(out),
    griefIncome: income,
    griefBurned: burned,
  };
}

const results: Array<{ rules: RuleSet; trials: Trial[] }> = [];
for (const [i, rules] of RULES.entries()) {
  const bar = startBar(["no verifier stake", "defaults", "defaults, look-up"][i] as string, flags.trials, "trials");
  const random = seeded(flags.seed + i);
  const trials: Trial[] = [];
  for (let t = 0; t < flags.trials; t++) {
    trials.push(await trial(rules, random));
    bar.increment();
  }
  results.push({ rules, trials });
}
stopBars();

function sums(trials: Trial[]) {
  const s = (f: (t: Trial) => number) => summarize(trials.map(f));
  return {
    slashed: s((t) => t.honestSlashed),
    jobs: s((t) => t.jobs),
    net: s((t) => t.griefIncome - t.griefBurned),
    income: s((t) => t.griefIncome),
    burned: s((t) => t.griefBurned),
    caught: trials.filter((t) => t.griefersExcluded).length,
    honestOut: s((t) => t.honestVerifiersExcluded),
  };
}
const b = sums(results[0]?.trials ?? []);
const n = sums(results[1]?.trials ?? []);
const l = sums(results[2]?.trials ?? []);
const rows: Row[] = [];
rows.push(
  {
    metric: "honest providers slashed by two griefing verifiers before both are out: mean / p90",
    tessera: `${fmt(n.slashed.mean)} / ${n.slashed.p90}`,
    baseline: `${fmt(b.slashed.mean)} / ${b.slashed.p90} (no verifier stake, no canary after a fail)`,
    versus: `${fmt(n.slashed.mean / b.slashed.mean)}×`,
    bar: "—",
    result: "info",
  },
  {
    metric: "griefers' net gain per trial, in job costs (slash rewards + verdict fees − stake burned): mean",
    tessera: fmt(n.net.mean, 1),
    baseline: `${fmt(b.net.mean, 1)} (no verifier stake, no canary after a fail)`,
    versus: "—",
    bar: "< 0 (griefing loses)",
    result: n.net.mean < 0 ? "pass" : "fail",
  },
  {
    metric:
      "settled jobs until both griefers are excluded: mean (trials where they were, of all); excluded or staked below --verifier-min-stake",
    tessera: `${fmt(n.jobs.mean, 0)} (${n.caught}/${flags.trials})`,
    baseline: `${fmt(b.jobs.mean, 0)} (${b.caught}/${flags.trials})`,
    versus: "—",
    bar: "—",
    result: "info",
  },
  {
    metric:
      "griefers that look each audit's job up in the public audit record (pass a job an audit passed): honest providers slashed mean / p90; honest verifiers excluded per trial",
    tessera: `${fmt(l.slashed.mean)} / ${l.slashed.p90}; ${fmt(l.honestOut.mean)}`,
    baseline: `${fmt(n.slashed.mean)} / ${n.slashed.p90}; ${fmt(n.honestOut.mean)} (naive griefers, defaults)`,
    versus: "—",
    bar: "—",
    result: "info",
  },
  {
    metric: "griefers that look each audit's job up: net gain per trial in job costs, mean; jobs until both are out",
    tessera: `${fmt(l.net.mean, 1)}; ${fmt(l.jobs.mean, 0)} (${l.caught}/${flags.trials})`,
    baseline: `${fmt(n.net.mean, 1)}; ${fmt(n.jobs.mean, 0)} (${n.caught}/${flags.trials}) (naive griefers, defaults)`,
    versus: "—",
    bar: "< 0 (griefing loses)",
    result: l.net.mean < 0 ? "pass" : "fail",
  },
);
const { command, reproduce } = commandLine(BENCH, nonDefaultFlags(FLAGS, flags));
const file = writeResult({
  bench: BENCH,
  title: "Griefing verifiers: honest providers slashed, and what griefing pays, without and with verifier stake",
  date: new Date().toISOString(),
  command,
  reproduce,
  machine: machine(),
  durationS: (performance.now() - t0) / 1000,
  rows,
  notes: [
    `Two griefing verifiers (fail every result) and two honest ones, all of other operators than the provider; audits at the default policy (a new provider p = ${defaults.policy.newRate}); every provider and verifier staked --min-stake = ${MIN_STAKE} nc, jobs costing ${COST} nc (stake / ${defaults.policy.slashMultiple}, the largest the stake backs), so a slash takes the whole stake; a slashed provider is replaced by a new honest one. Canary audits after passes at --verifier-canary-rate ${defaults.canaries.verifierRate}, half known-wrong. Canary jobs at --canary-rate ${defaults.canaries.providerRate} after each settled job (and one for a verifier whose fail found no known-good result), landing on the real jobs' provider or a second honest provider of another operator at even odds. Naive griefers fail everything; look-up griefers pass a job whose public audit record shows a passed audit (a known-good canary made of a passed real job) and fail the rest.`,
    `Per trial, mean over ${flags.trials} trials, at most ${flags.jobs} jobs: no verifier stake — income ${fmt(b.income.mean, 1)} job costs, burned ${fmt(b.burned.mean, 1)}, honest verifiers excluded ${fmt(b.honestOut.mean)}; defaults — income ${fmt(n.income.mean, 1)}, burned ${fmt(n.burned.mean, 1)}, honest verifiers excluded ${fmt(n.honestOut.mean)}; look-up griefers — income ${fmt(l.income.mean, 1)}, burned ${fmt(l.burned.mean, 1)}, honest verifiers excluded ${fmt(l.honestOut.mean)}.`,
  ],
  details: results.map((r) => ({ rules: r.rules, trials: r.trials })),
});
process.stdout.write(`${file}\n`);
