// Catching cheaters. (a) Detection: for each cheating strategy of the adversary tests (random
// output, a smaller model, truncation, inflated token counts, replaying another prompt's output),
// a few hundred cheated results over a seeded job mix are checked by runtime.verify — the verifiers'
// code path — on two verifier set-ups (A: threads 1, batch 7; B: threads 1, batch 512); the share
// rejected is the detection rate. (b) Jobs until slashed: the gateway's audit policy (core's
// auditProbabilityWithReputation, nodeReputation, decideAudit, drawPassRecheck, with the gateway's
// default settings) over a stream of jobs of a provider that starts new and cheats on each job with
// probability q, where an audited cheated job gets the verdicts measured in (a) for a randomly
// drawn cheated result (first verifier A, second B, a third A again), repeated over many simulated
// providers; beside it the expectation computed analytically from the same policy, and the
// cheater's gains against its stake.
// With --weights q8_0 or q4_0 the tiny model and the impostor are quantized and the verifiers apply
// the wider quantized tolerances; that run writes catching-cheaters-<weights>.json.
//   npx tsx bench/catching-cheaters.ts [--per-strategy 300] [--trials 2000] [--seed 2] [--weights f32]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expectedJobsUntilCaught, incentiveRatio, maxJobCost } from "@tessera/core";
import { GatewayConfigSchema } from "@tessera/gateway";
import type { LlmJobSpec, VerdictReport } from "@tessera/protocol";
import { type LlmRuntime, tinyModelParameterCount } from "@tessera/runtimes";
import { expectedJobsDecaying, runAudit, simulateStream } from "./lib/audit-sim.js";
import {
  Cheater,
  type Claim,
  openImpostor,
  reasonCheck,
  STRATEGIES,
  type Strategy,
  sameAsHonest,
  WHAT,
} from "./lib/cheats.js";
import { nonDefaultFlags, readFlags } from "./lib/flags.js";
import {
  describeSpec,
  jobMix,
  label,
  openRuntime,
  parseWeights,
  type RuntimeSetup,
  resultName,
  seeded,
  tinyModel,
  WEIGHTS_FLAG,
} from "./lib/llm-mix.js";
import { note, startBar, stopBars } from "./lib/progress.js";
import { commandLine, machine, type Row, writeResult } from "./lib/results.js";
import { fmt, percentile } from "./lib/stats.js";

const BENCH = "catching-cheaters";
const FLAGS = {
  "per-strategy": { help: "cheated results measured per strategy", default: 300 },
  trials: { help: "simulated providers per (strategy, q) row", default: 2000 },
  seed: { help: "seed of the job mix and the simulation", default: 2 },
  "max-jobs": { help: "a simulated provider not slashed after this many jobs counts as never caught", default: 500000 },
  weights: WEIGHTS_FLAG,
};
const LENGTHS = [1, 2, 4, 8, 16, 24, 32];
const QS = [1, 0.1, 0.01];
const VERIFIERS: Record<"A" | "B", RuntimeSetup> = {
  A: { threads: 1, batchSize: 7 },
  B: { threads: 1, batchSize: 512 },
};
const PROVIDER: RuntimeSetup = { threads: 1, batchSize: 512 };

const flags = readFlags(BENCH, FLAGS);
const WEIGHTS = parseWeights(flags.weights);
const RESULT = resultName(BENCH, WEIGHTS);
const t0 = performance.now();
const verification = GatewayConfigSchema.parse({}).verification;
const policy = verification.policy;
const recheckRate = verification.passRecheckRate;
const model = await tinyModel(WEIGHTS);
const dir = mkdtempSync(join(tmpdir(), "tessera-cheaters-"));
const provider = await openRuntime(model, PROVIDER);
const impostor = await openImpostor(dir, PROVIDER, WEIGHTS);
const verifiers: Record<"A" | "B", LlmRuntime> = {
  A: await openRuntime(model, VERIFIERS.A),
  B: await openRuntime(model, VERIFIERS.B),
};
const modelId = provider.models()[0]?.id as string;
const parameters = provider.models()[0]?.parameters ?? tinyModelParameterCount();
const signal = new AbortController().signal;

// ---- (a) detection: real cheated results through the real verify ----

interface Measured {
  strategy: Strategy;
  index: number;
  tokens: number;
  /** the claim is exactly the honest result: the cheat changed nothing a verifier could see */
  noop: boolean;
  passA: boolean;
  passB: boolean;
  caughtBy: string[];
  /** what the cheater gains on this job, as a share of the honest job's price (see notes) */
  gainShare: number;
}

const N = flags["per-strategy"];
const measured: Record<Strategy, Measured[]> = {
  random: [],
  "smaller-model": [],
  truncate: [],
  inflate: [],
  replay: [],
};
const undetected: { strategy: Strategy; spec: string; noop: boolean; claimTokens: number; report: VerdictReport }[] =
  [];
const cheater = new Cheater(parameters, seeded(flags.seed ^ 0x5eed), impostor);
const bar = startBar("cheated results checked", N * STRATEGIES.length, "results");
for (const [si, strategy] of STRATEGIES.entries()) {
  const jobs: LlmJobSpec[] = jobMix(N + 1, flags.seed * 1000 + si, modelId, { lengths: LENGTHS });
  // the replay cheater's first job has nothing to replay yet: an extra job seeds it
  const first = await provider.execute(jobs[N] as LlmJobSpec, { jobId: "seed", attempt: 1, signal });
  cheater.saw(first.output);
  for (let i = 0; i < N; i++) {
    const spec = jobs[i] as LlmJobSpec;
    let t = performance.now();
    const honest = await provider.execute(spec, { jobId: `h-${i}`, attempt: 1, signal });
    const generateMs = performance.now() - t;
    t = performance.now();
    const claim: Claim = await cheater.claim(strategy, spec, honest, signal);
    const cheatMs = performance.now() - t;
    cheater.saw(honest.output);
    const ctx = { jobId: `c-${i}`, signal };
    const a = await verifiers.A.verify(spec, claim, ctx);
    const b = await verifiers.B.verify(spec, claim, ctx);
    // compute the cheater did not do (its own work timed; truncation counted by tokens, inflation
    // did all of it), plus what it billed beyond the honest result, both as shares of the price
    const own =
      strategy === "inflate"
        ? 1
        : strategy === "truncate"
          ? claim.output.tokens.length / Math.max(1, honest.output.tokens.length)
          : cheatMs / generateMs;
    const billed = (claim.units.standardUnits - honest.units.standardUnits) / honest.units.standardUnits;
    const m: Measured = {
      strategy,
      index: i,
      tokens: honest.output.tokens.length,
      noop: sameAsHonest(claim, honest),
      passA: a.pass,
      passB: b.pass,
      caughtBy: [...new Set(a.reasons.map(reasonCheck))],
      gainShare: Math.max(0, 1 - own) + billed,
    };
    measured[strategy].push(m);
    if (a.pass && undetected.length < 100)
      undetected.push({
        strategy,
        spec: describeSpec(spec),
        noop: m.noop,
        claimTokens: claim.output.tokens.length,
        report: a,
      });
    const caught = measured[strategy].filter((x) => !x.passA).length;
    bar.increment(1, { detail: `${strategy}: ${caught}/${measured[strategy].length} rejected` });
  }
}
stopBars();
for (const rt of [provider, impostor, verifiers.A, verifiers.B]) await rt.close();
rmSync(dir, { recursive: true, force: true });

/** Probability that an audit of this result ends in a slash: verifiers A, B, A; a single pass re-checked at r. */
function slashOdds(m: Measured): number {
  const order = [m.passA, m.passB, m.passA];
  const verdict = (i: number) => order[i] as boolean;
  const withRecheck = runAudit(verdict, 1, () => 0).slashed ? 1 : 0;
  const without = runAudit(verdict, 0, () => 0).slashed ? 1 : 0;
  return recheckRate * withRecheck + (1 - recheckRate) * without;
}

const detection = STRATEGIES.map((strategy) => {
  const ms = measured[strategy];
  const n = ms.length;
  const byCheck: Record<string, number> = {};
  for (const m of ms) for (const c of m.caughtBy) byCheck[c] = (byCheck[c] ?? 0) + 1;
  const effective = ms.filter((m) => !m.noop);
  const bucket = (lo: number, hi: number) => {
    const xs = ms.filter((m) => m.tokens >= lo && m.tokens <= hi);
    return { tokens: `${lo}-${hi}`, n: xs.length, rejectedA: xs.filter((m) => !m.passA).length };
  };
  return {
    strategy,
    what: WHAT[strategy],
    n,
    noop: n - effective.length,
    rejectedA: ms.filter((m) => !m.passA).length,
    rejectedB: ms.filter((m) => !m.passB).length,
    agree: ms.filter((m) => m.passA === m.passB).length,
    rateA: ms.filter((m) => !m.passA).length / Math.max(1, n),
    rateEffective: effective.filter((m) => !m.passA).length / Math.max(1, effective.length),
    /** chance an audit of a cheated result ends in a slash (the simulation's d) */
    d: ms.reduce((a, m) => a + slashOdds(m), 0) / Math.max(1, n),
    byCheck,
    gainShare: ms.reduce((a, m) => a + m.gainShare, 0) / Math.max(1, n),
    byLength: [bucket(0, 2), bucket(3, 8), bucket(9, 32)],
  };
});
for (const d of detection)
  note(
    `${d.strategy}: verifier A rejected ${d.rejectedA}/${d.n} (B ${d.rejectedB}/${d.n}; ${d.noop} cheats changed nothing), audit slash odds ${d.d.toFixed(4)}, caught by ${JSON.stringify(d.byCheck)}`,
  );

// ---- (b) jobs until slashed: the gateway's policy over simulated providers ----

const G = 1_000_000n; // a job's price in nano-credits, g (any value: results are in units of g)
const stake = BigInt(policy.slashMultiple) * G; // the stake that backs jobs of price g: maxJobCost(stake) = g
if (maxJobCost(policy, stake) !== G) throw new Error("stake and job price disagree with core's maxJobCost");
const stakeInG = Number(stake / G);
const rand = seeded(flags.seed * 7919 + 1);
const simStart = performance.now();
interface SimRow {
  strategy: Strategy;
  q: number;
  d: number;
  trials: number;
  neverSlashed: number;
  jobs: { mean: number; p50: number; p90: number; p99: number };
  analyticJobs: number;
  /** core's expectedJobsUntilCaught at the floor rate, with the measured d and with the policy's assumed d */
  floorJobs: number;
  floorJobsAssumedD: number;
  /** cheated jobs paid before the slash (the caught one is refunded), in units of g */
  gains: { mean: number; p50: number; p90: number; p99: number; max: number };
  gainsReachedStake: number;
  auditsPerProvider: number;
}
const simulation: SimRow[] = [];
const simBar = startBar("simulated providers", STRATEGIES.length * QS.length * flags.trials, "providers");
for (const d of detection) {
  const pool = measured[d.strategy];
  const draw = (r: () => number) => {
    const m = pool[Math.floor(r() * pool.length)] as Measured;
    const order = [m.passA, m.passB, m.passA];
    return (i: number) => order[i] as boolean;
  };
  for (const q of QS) {
    const jobs: number[] = [];
    const paid: number[] = [];
    let never = 0;
    let audits = 0;
    for (let t = 0; t < flags.trials; t++) {
      const r = simulateStream({
        policy,
        recheckRate,
        q,
        cheatedVerdicts: draw,
        // a strategy never caught would never end: a short stream shows it as never slashed
        maxJobs: d.d > 0 ? flags["max-jobs"] : 1000,
        rand,
      });
      if (!r.slashed) never++;
      jobs.push(r.jobs);
      paid.push(r.cheatedPaid);
      audits += r.audits;
      simBar.increment();
    }
    const sj = [...jobs].sort((a, b) => a - b);
    const sp = [...paid].sort((a, b) => a - b);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    const analytic = expectedJobsDecaying(policy, q, d.d);
    const floorMeasured =
      d.d > 0 ? expectedJobsUntilCaught({ ...policy, detection: d.d }, q) : Number.POSITIVE_INFINITY;
    simulation.push({
      strategy: d.strategy,
      q,
      d: d.d,
      trials: flags.trials,
      neverSlashed: never,
      jobs: { mean: mean(jobs), p50: percentile(sj, 50), p90: percentile(sj, 90), p99: percentile(sj, 99) },
      analyticJobs: analytic,
      floorJobs: floorMeasured,
      floorJobsAssumedD: expectedJobsUntilCaught(policy, q),
      gains: {
        mean: mean(paid),
        p50: percentile(sp, 50),
        p90: percentile(sp, 90),
        p99: percentile(sp, 99),
        max: sp.at(-1) ?? 0,
      },
      gainsReachedStake: paid.filter((x) => x >= stakeInG).length / flags.trials,
      auditsPerProvider: audits / flags.trials,
    });
  }
}
stopBars();
const simS = (performance.now() - simStart) / 1000;

// ---- results ----

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
const f = (x: number) => (Number.isFinite(x) ? (x >= 100 ? x.toFixed(0) : x.toFixed(1)) : "∞");
const row = (s: Strategy, q: number) => simulation.find((x) => x.strategy === s && x.q === q);
const worstD = Math.min(...detection.map((d) => d.rateA));
const cheatQ = row("random", 0.01);
const rows: Row[] = [
  ...detection.map(
    (d): Row => ({
      metric: `detection rate: ${d.strategy} (cheated results rejected by verify)`,
      tessera: `${d.rejectedA}/${d.n} = ${d.rateA.toFixed(3)}`,
      baseline: `policy assumes d = ${policy.detection}`,
      versus: `${(d.rateA / policy.detection).toFixed(2)}×`,
      bar: `≥ ${policy.detection}`,
      result: d.rateA >= policy.detection ? "pass" : "fail",
    }),
  ),
  ...QS.map((q): Row => {
    const s = row("random", q);
    return {
      metric: `jobs until slashed, new provider cheating (random output) on q = ${q} of jobs: mean / median / p90`,
      tessera: s ? `${f(s.jobs.mean)} / ${f(s.jobs.p50)} / ${f(s.jobs.p90)}` : "n/a",
      baseline: s ? `analytic ${f(s.analyticJobs)} (core's 1/(q·p·d) at the floor p: ${f(s.floorJobs)})` : "n/a",
      versus: s ? `${(s.jobs.mean / s.analyticJobs).toFixed(2)}×` : "n/a",
      bar: "—",
      result: "info",
    };
  }),
  {
    metric: "q = 0.01 cheater: cheated jobs paid before the slash (gains, in job prices g), mean / p99",
    tessera: cheatQ ? `${f(cheatQ.gains.mean)} g / ${f(cheatQ.gains.p99)} g` : "n/a",
    baseline: `stake ${stakeInG} g (= slashMultiple × g)`,
    versus: cheatQ ? `${(cheatQ.gains.mean / stakeInG).toFixed(2)}× the stake` : "n/a",
    bar: "mean < stake",
    result: cheatQ && cheatQ.gains.mean < stakeInG ? "pass" : "fail",
  },
];

const detectionTable = [
  "| strategy | what the cheater claims | cheated results | cheat changed nothing | rejected by A | rejected by B | A and B agree | audit ends in a slash (d) | caught by (checks failing, results) | measured gain per cheated job (share of g) |",
  "|---|---|---|---|---|---|---|---|---|---|",
  ...detection.map(
    (d) =>
      `| ${d.strategy} | ${d.what} | ${d.n} | ${d.noop} | ${d.rejectedA} (${pct(d.rateA)}) | ${d.rejectedB} | ${d.agree} | ${d.d.toFixed(4)} | ${Object.entries(
        d.byCheck,
      )
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")} | ${d.gainShare.toFixed(2)} |`,
  ),
];
const simTable = [
  "| strategy | q | d | jobs until slashed: mean | median | p90 | p99 | analytic E (policy from new, measured d) | core's 1/(q·p·d) at the floor (measured d / d = 0.9) | audits per provider | cheated jobs paid before the slash (gains in g): mean | p90 | p99 | providers whose gains reached the stake first |",
  "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
  ...simulation.map(
    (s) =>
      `| ${s.strategy} | ${s.q} | ${s.d.toFixed(3)} | ${f(s.jobs.mean)} | ${f(s.jobs.p50)} | ${f(s.jobs.p90)} | ${f(s.jobs.p99)} | ${f(s.analyticJobs)} | ${f(s.floorJobs)} / ${f(s.floorJobsAssumedD)} | ${f(s.auditsPerProvider)} | ${f(s.gains.mean)} | ${f(s.gains.p90)} | ${f(s.gains.p99)} | ${pct(s.gainsReachedStake)}${s.neverSlashed ? ` (${s.neverSlashed} never slashed in ${flags["max-jobs"]} jobs)` : ""} |`,
  ),
];

const durationS = (performance.now() - t0) / 1000;
const { command, reproduce } = commandLine(BENCH, nonDefaultFlags(FLAGS, flags));
const file = writeResult({
  bench: RESULT,
  title: `Catching cheaters: detection of 5 cheating strategies by the real LLM verify (${N} cheated tiny-model (${WEIGHTS}) results each), and jobs until slashed under the gateway's default audit policy (${flags.trials} simulated providers per row, q = ${QS.join(", ")})`,
  date: new Date().toISOString(),
  command,
  reproduce,
  machine: machine(),
  durationS,
  rows,
  notes: [
    `Detection: for each strategy, ${N} jobs of a seeded mix (greedy and seeded sampling, prompt and chat inputs, stop strings, max_tokens ${LENGTHS.join("/")}) are run honestly by a provider runtime (${label(PROVIDER)}); the cheater's claim is derived from that honest result as the adversary of the tests derives it (bench/lib/cheats.ts) and checked by runtime.verify of verifier A (${label(VERIFIERS.A)}) and B (${label(VERIFIERS.B)}). Lowest detection rate: ${worstD.toFixed(3)} (the policy assumes ${policy.detection}).`,
    `d = the chance an audit of a cheated result ends in a slash under the gateway's rules (core's decideAudit: a fail goes to a second verifier, two fails slash, a split goes to a third; a single pass is re-checked at passRecheckRate ${recheckRate}), with the measured verdicts: first verifier A, second B, third A again.`,
    `Simulation: the gateway's default verification settings (${JSON.stringify({ ...policy, passRecheckRate: recheckRate })}). Each simulated provider starts new (no record, reputation from core's nodeReputation), settles jobs one after another; each is cheated with probability q; after each the audit probability is core's auditProbabilityWithReputation (the clean count rises by one per settled job, as in the gateway's coordinator); an audited cheated job draws one of the measured cheated results of its strategy and gets its real verdicts; an honest one passes (the fairness bench measured no false fails). The run ends at the slash. Canary jobs (another route to an audit) are left out, so these counts are on the slow side.`,
    "Analytic: E[jobs] = Σₙ Πᵢ₍ᵢ<ₙ₎ (1 − q·d·pᵢ) with pᵢ = core's auditProbability after i clean jobs (a new provider's decaying rate; the reputation term, which can only raise p, left out); core's expectedJobsUntilCaught gives 1/(q·p·d) for a provider already at the floor rate p = " +
      `${policy.floorRate}, with the measured d and with the policy's assumed d = ${policy.detection}.`,
    `Gains model: a cheated job that is paid and never caught gains the cheater at most the job's price g — the compute it skipped, priced at what the job pays (an upper bound: the provider's cost of the compute is below the price it charges; the measured share per strategy is in the detection table: the skipped compute as a share of the honest generation time, plus any billing beyond the honest result's units, minus any billed below). The caught job is refunded to the consumer, so it gains nothing. The stake is the one the policy sizes for jobs of price g: slashMultiple × g = ${stakeInG} g (core's maxJobCost(policy, stake) = g), and a slash takes min(stake, ${policy.slashMultiple} g) = all of it. The gateway's --min-stake defaults to 0 (no stake required): a provider with no stake loses only its future earnings (it is excluded). Exception: inflate skips no compute but overbills, ${detection.find((d) => d.strategy === "inflate")?.gainShare.toFixed(2)} g per cheated job on this mix of short jobs (100 extra input tokens on jobs of a few dozen tokens, before the cap at the job's escrow), so its gains are that multiple of the column; the settled cost, the slash (${policy.slashMultiple} × the settled cost) and the stake a gateway should ask (${policy.slashMultiple} × the largest escrow) scale with the billed cost, not the honest price.`,
    cheatQ
      ? `q = 0.01 under the default policy: slashed after ${f(cheatQ.jobs.mean)} jobs on average (analytic ${f(cheatQ.analyticJobs)}), having been paid for ${f(cheatQ.gains.mean)} cheated jobs on average (p99 ${f(cheatQ.gains.p99)}): ${cheatQ.gains.mean < stakeInG ? "caught in expectation before its gains reach" : "its gains exceed"} the ${stakeInG} g stake; in ${pct(cheatQ.gainsReachedStake)} of the simulated providers the gains reached the stake first. core's incentive ratio p·d·(1 + k) at the floor with d = ${policy.detection}: ${incentiveRatio(policy).toFixed(3)}.`
      : "",
    `Time: measuring (a) ${((simStart - t0) / 1000).toFixed(0)} s of model work; the simulation (b) ${simS.toFixed(1)} s.`,
  ].filter(Boolean),
  sections: [
    { title: "Detection by strategy (real verify, tiny model)", lines: detectionTable },
    { title: "Jobs until slashed (gateway's default audit policy, simulated providers)", lines: simTable },
  ],
  details: {
    provider: PROVIDER,
    verifiers: VERIFIERS,
    policy,
    recheckRate,
    lengths: LENGTHS,
    perStrategy: N,
    detection,
    simulation,
    undetected,
    stakeInG,
  },
});
process.stdout.write(
  `${JSON.stringify(
    detection.map((d) => ({ strategy: d.strategy, rate: d.rateA, d: d.d })),
  )}\n${simulation.map((s) => `${s.strategy} q=${s.q}: mean ${fmt(s.jobs.mean, 1)} analytic ${fmt(s.analyticJobs, 1)} gains ${fmt(s.gains.mean, 1)}`).join("\n")}\nwrote ${file} (${durationS.toFixed(0)} s)\n`,
);
process.exit(0);
