// Griefing verifiers: two verifiers of made-up operators fail every result they are sent, to share
// the reporters' part of each slash, beside two honest verifiers. Run through the gateway's real
// VerificationCoordinator and CanaryService on an in-memory store and ledger (real signatures, real
// postings), with honest providers settling greedy jobs at the largest cost their stake backs; a
// slashed provider is excluded and a new honest one takes its place. Compared: no verifier stake
// and no known-good canary after a fail (--verifier-min-stake 0 --fail-canary-rate 0), against the
// defaults (--verifier-min-stake = --min-stake, burned when a canary verdict contradicts the known
// answer; --fail-canary-rate 1). Both run today's rule that a dissent strike needs a majority
// vouched by canaries (core's majorityVouched). Each trial runs until both griefers are out or --jobs.
//   npx tsx bench/griefing.ts [--trials 40] [--jobs 400] [--seed 7]
import { EventEmitter } from "node:events";
import { CanaryPolicySchema, type JobRecord, stakeAccounts, stakeDepositEvent } from "@tessera/core";
import { GatewayConfigSchema } from "@tessera/gateway";
import { openStore } from "@tessera/store";
import pino from "pino";
import type { Engine } from "../packages/gateway/src/engine/engine.js";
import { GroupWriter } from "../packages/gateway/src/engine/writer.js";
import { CanaryService } from "../packages/gateway/src/verification/canaries.js";
import { VerificationConfigSchema } from "../packages/gateway/src/verification/config.js";
import { VerificationCoordinator } from "../packages/gateway/src/verification/coordinator.js";
import {
  auditsSent,
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

interface RuleSet {
  name: string;
  verifierMinStake: string;
  failRate: number;
}
const RULES: RuleSet[] = [
  { name: "no verifier stake, no canary after a fail", verifierMinStake: "0", failRate: 0 },
  {
    name: "defaults: verifier stake burned on a caught canary, known-good canary after a fail",
    verifierMinStake: MIN_STAKE.toString(),
    failRate: defaults.canaries.failRate,
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
  canaries = new CanaryService({
    engine: { feed: new EventEmitter() } as unknown as Engine,
    store,
    coordinator,
    policy: CanaryPolicySchema.parse({ ...defaults.canaries, failRate: rules.failRate, meanDelayMs: 0 }),
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
  for (const n of [...verifiers, provider]) await stake(n, MIN_STAKE);
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
          const pass = griefers.includes(v) ? false : truth.get(m.jobId) === m.outputHash;
          const verdict = verdictOf(v, m.auditId, m.jobId, pass, { outputHash: m.outputHash });
          if (!(await canaries?.onVerdict(v.session, verdict))) await coordinator.onVerdict(v.session, verdict);
        }
      if (!any && round > 2) return;
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
    const job = testJob(`job_${jobs}`, provider.session.id, { cost: COST, output });
    truth.set(job.id, job.outputHash as string);
    await store.commit([{ job }]);
    coordinator.onSettled(job);
    await deliver();
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
  const bar = startBar(i === 0 ? "no verifier stake" : "defaults", flags.trials, "trials");
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
    `Two griefing verifiers (fail every result) and two honest ones, all of other operators than the provider; audits at the default policy (a new provider p = ${defaults.policy.newRate}); every provider and verifier staked --min-stake = ${MIN_STAKE} nc, jobs costing ${COST} nc (stake / ${defaults.policy.slashMultiple}, the largest the stake backs), so a slash takes the whole stake; a slashed provider is replaced by a new honest one. Canary audits after passes at --verifier-canary-rate ${defaults.canaries.verifierRate}, half known-wrong. The griefers are naive: they do not look jobs up in the explorer to tell a known-good canary (an already passed job) from a first audit.`,
    `Per trial, mean over ${flags.trials} trials, at most ${flags.jobs} jobs: no verifier stake — income ${fmt(b.income.mean, 1)} job costs, burned ${fmt(b.burned.mean, 1)}, honest verifiers excluded ${fmt(b.honestOut.mean)}; defaults — income ${fmt(n.income.mean, 1)}, burned ${fmt(n.burned.mean, 1)}, honest verifiers excluded ${fmt(n.honestOut.mean)}.`,
  ],
  details: results.map((r) => ({ rules: r.rules, trials: r.trials })),
});
process.stdout.write(`${file}\n`);
