// Fairness to the honest: honest LLM results, produced by a runtime set up as a provider (threads 1,
// batch 512: prefill in one batch, then one token per decode), are checked by runtime.verify — the
// verifiers' own code path — on runtimes set up otherwise: verifier A (threads 1, batch 7: the
// teacher-forced pass in chunks of 7) and B (threads 1, batch 512: prompt + output in one pass, what
// `tessera provider --verify` runs on the tiny model) check every job, C (threads 2, batch 16) every
// 25th, over a seeded mix of greedy and seeded-sampled jobs, prompt and chat inputs, stop strings
// and output caps of 1–32 tokens. Every failure would slash an honest provider: the goal is 0. The
// margins each verdict report records are summarised as percentiles on their bad side beside the
// tolerances of packages/runtimes/src/verify/tolerances.ts, so the headroom shows.
// With --weights q8_0 or q4_0 the tiny model is quantized (as real GGUF files are) and the verifiers
// apply the quantized tolerances; that run writes verification-fairness-<weights>.json.
//   npx tsx bench/verification-fairness.ts [--jobs 10000] [--c-every 25] [--seed 1] [--weights f32]
import type { LlmJobSpec, VerdictReport } from "@tessera/protocol";
import { DEFAULT_LLM_TOLERANCES, type LlmExecuteResult, type LlmRuntime, llmTolerancesFor } from "@tessera/runtimes";
import { readGgufFileInfo } from "node-llama-cpp";
import { nonDefaultFlags, readFlags } from "./lib/flags.js";
import {
  describeSpec,
  isGreedy,
  jobMix,
  label,
  num,
  openRuntime,
  parseWeights,
  type RuntimeSetup,
  resultName,
  type Tail,
  tail,
  tinyModel,
  WEIGHTS_FLAG,
} from "./lib/llm-mix.js";
import { note, startBar, stopBars } from "./lib/progress.js";
import { commandLine, machine, type Row, writeResult } from "./lib/results.js";

const BENCH = "verification-fairness";
const FLAGS = {
  jobs: { help: "honest jobs generated and checked by verifier A", default: 10000 },
  seed: { help: "seed of the job mix", default: 1 },
  "provider-threads": { help: "provider runtime threads", default: 1 },
  "provider-batch": { help: "provider runtime batch size", default: 512 },
  "a-threads": { help: "verifier A threads", default: 1 },
  "a-batch": { help: "verifier A batch size", default: 7 },
  "b-threads": { help: "verifier B threads", default: 1 },
  "b-batch": { help: "verifier B batch size", default: 512 },
  "c-threads": { help: "verifier C threads", default: 2 },
  "c-batch": { help: "verifier C batch size", default: 16 },
  weights: WEIGHTS_FLAG,
  "c-every": {
    help: "verifier C checks every n-th job (1 = all; two threads are slow on a loaded 2-core machine)",
    default: 25,
  },
};
const LENGTHS = [1, 2, 4, 8, 16, 24, 32];
const flags = readFlags(BENCH, FLAGS);
const WEIGHTS = parseWeights(flags.weights);
const RESULT = resultName(BENCH, WEIGHTS);
const t0 = performance.now();
const model = await tinyModel(WEIGHTS);
// the tolerances runtime.verify will pick for this file (by its weight types)
const TOL = llmTolerancesFor(
  (await readGgufFileInfo(model, { sourceType: "filesystem", logWarnings: false })).tensorInfo ?? [],
);
const KEEP_FAILURES = 100;

interface Checked {
  index: number;
  spec: LlmJobSpec;
  result: LlmExecuteResult;
}

interface Margin {
  key: string;
  title: string;
  /** which results carry it */
  applies: (c: Checked, r: VerdictReport) => boolean;
  worse: "high" | "low";
  tolerance: number | null;
  bar: string;
}

const MARGINS: Margin[] = [
  {
    key: "maxLogprobDiff",
    title: "largest difference reported − verifier's logprob in a result (absolute), nats",
    applies: (_c, r) => r.metrics.maxLogprobDiff !== undefined,
    worse: "high",
    tolerance: TOL.logprobDiffNats,
    bar: `≤ ${TOL.logprobDiffNats}`,
  },
  {
    key: "maxGreedyGap",
    title: "greedy: largest gap top logit − claimed token's logit, nats",
    applies: (c, r) => isGreedy(c.spec) && r.metrics.maxGreedyGap !== undefined,
    worse: "high",
    tolerance: TOL.greedyGapNats,
    bar: `≤ ${TOL.greedyGapNats}`,
  },
  {
    key: "argmaxFlips",
    title: "greedy: tokens that were not the verifier's argmax (near-ties), per result",
    applies: (c, r) => isGreedy(c.spec) && r.metrics.argmaxFlips !== undefined,
    worse: "high",
    tolerance: null,
    bar: "— (allowed within the gap)",
  },
  {
    key: "minLogprob",
    title: "sampled: lowest token log-probability in a result",
    applies: (c, r) => !isGreedy(c.spec) && r.metrics.minLogprob !== undefined,
    worse: "low",
    tolerance: TOL.floorLogprob,
    bar: `≥ ${TOL.floorLogprob}`,
  },
  {
    key: "likelihoodZ",
    title: `sampled, ≥ ${TOL.minTokensForZ} tokens: sequence likelihood z-score`,
    applies: (c, r) => !isGreedy(c.spec) && r.checks.includes("likelihood"),
    worse: "low",
    tolerance: TOL.minLikelihoodZ,
    bar: `≥ ${TOL.minLikelihoodZ}`,
  },
  {
    key: "rankViolations",
    title: "sampled with top-k: tokens ranked past k (beyond the tie slack)",
    applies: (c, r) => c.spec.params.topK !== undefined && r.metrics.rankViolations !== undefined,
    worse: "high",
    tolerance: 0,
    bar: "0",
  },
  {
    key: "billedUnitsOver",
    title: "standard units billed − recounted",
    applies: (_c, r) => r.metrics.billedUnitsOver !== undefined,
    worse: "high",
    tolerance: 0,
    bar: "0",
  },
];

function headroom(m: Margin, t: Tail): string {
  if (m.tolerance === null || t.n === 0) return "—";
  if (m.worse === "low") return `${num(t.worst - m.tolerance)} above`;
  if (m.tolerance === 0) return t.worst <= 0 ? "at 0" : "over";
  return t.worst > 0 ? `${(m.tolerance / t.worst).toFixed(0)}× below` : "worst is 0";
}

const providerSetup = { threads: flags["provider-threads"], batchSize: flags["provider-batch"] };
const NAMES = ["A", "B", "C"] as const;
type Name = (typeof NAMES)[number];
const setups: Record<Name, RuntimeSetup> = {
  A: { threads: flags["a-threads"], batchSize: flags["a-batch"] },
  B: { threads: flags["b-threads"], batchSize: flags["b-batch"] },
  C: { threads: flags["c-threads"], batchSize: flags["c-batch"] },
};
const every: Record<Name, number> = { A: 1, B: 1, C: Math.max(1, flags["c-every"]) };
const provider = await openRuntime(model, providerSetup);
const verifiers: Record<Name, LlmRuntime> = {
  A: await openRuntime(model, setups.A),
  B: await openRuntime(model, setups.B),
  C: await openRuntime(model, setups.C),
};
const modelId = provider.models()[0]?.id as string;
const signal = new AbortController().signal;
const jobs = jobMix(flags.jobs, flags.seed, modelId, { lengths: LENGTHS });
const who = (n: Name) => `verifier ${n} (${label(setups[n])}${every[n] > 1 ? `, every ${every[n]}th job` : ""})`;
note(
  `${BENCH}: ${jobs.length} honest jobs from the provider (${label(providerSetup)}), checked by ${NAMES.map(who).join(", ")}`,
);

const reports: Record<Name, { c: Checked; r: VerdictReport }[]> = { A: [], B: [], C: [] };
const failures: {
  index: number;
  verifier: Name;
  spec: string;
  job: LlmJobSpec;
  claim: LlmExecuteResult;
  report: VerdictReport;
}[] = [];
const failCount: Record<Name, number> = { A: 0, B: 0, C: 0 };
const ms = { generate: 0, A: 0, B: 0, C: 0 };
const errors: { index: number; message: string }[] = [];
const outputs = { tokens: 0, stop: 0, length: 0, greedy: 0, chat: 0, withStop: 0 };

const bar = startBar("honest jobs checked", jobs.length, "jobs");
const measureStart = performance.now();
for (const [index, spec] of jobs.entries()) {
  let t = performance.now();
  let result: LlmExecuteResult;
  try {
    result = await provider.execute(spec, { jobId: `fair-${index}`, attempt: 1, signal });
  } catch (e) {
    errors.push({ index, message: (e as Error).message });
    bar.increment();
    continue;
  }
  ms.generate += performance.now() - t;
  const c: Checked = { index, spec, result };
  outputs.tokens += result.output.tokens.length;
  outputs[result.output.finishReason]++;
  if (isGreedy(spec)) outputs.greedy++;
  if ("messages" in spec.input) outputs.chat++;
  if (spec.params.stop) outputs.withStop++;
  for (const name of NAMES) {
    if (index % every[name] !== 0) continue;
    t = performance.now();
    const r = await verifiers[name].verify(spec, result, { jobId: `fair-${index}`, signal });
    ms[name] += performance.now() - t;
    reports[name].push({ c, r });
    if (!r.pass) {
      failCount[name]++;
      note(`FALSE FAIL by verifier ${name} on job ${index} (${describeSpec(spec)}): ${r.reasons.join("; ")}`);
      if (failures.length < KEEP_FAILURES)
        failures.push({ index, verifier: name, spec: describeSpec(spec), job: spec, claim: result, report: r });
    }
  }
  bar.increment(1, {
    detail: `false fails ${NAMES.map((n) => `${n} ${failCount[n]}`).join(" / ")}, ${((index + 1) / ((performance.now() - measureStart) / 1000)).toFixed(0)} jobs/s`,
  });
}
stopBars();
await provider.close();
for (const v of Object.values(verifiers)) await v.close();

const checkedCount = { A: reports.A.length, B: reports.B.length, C: reports.C.length };
const margins = NAMES.map((name) => ({
  verifier: name,
  setup: setups[name],
  margins: MARGINS.map((m) => {
    const values = reports[name].filter(({ c, r }) => m.applies(c, r)).map(({ r }) => r.metrics[m.key] as number);
    const t = tail(values, m.worse);
    return { key: m.key, title: m.title, worse: m.worse, tolerance: m.tolerance, ...t, headroom: headroom(m, t) };
  }),
}));
/** the worst value of a margin over every verifier's checks */
const worstOf = (key: string): number => {
  const ws = margins.map((x) => x.margins.find((m) => m.key === key)).filter((m) => m && m.n > 0);
  const vals = ws.map((m) => m?.worst as number);
  return ws[0]?.worse === "low" ? Math.min(...vals) : Math.max(...vals);
};

const produced = jobs.length - errors.length;
const totalChecks = NAMES.reduce((a, n) => a + checkedCount[n], 0);
const totalFails = NAMES.reduce((a, n) => a + failCount[n], 0);
const fairRow = (name: Name): Row => ({
  metric: `false fails: honest results failed by ${who(name)}`,
  tessera: `${failCount[name]} of ${checkedCount[name]}`,
  baseline: `— (provider ${label(providerSetup)})`,
  versus: "—",
  bar: "0",
  result: failCount[name] === 0 && checkedCount[name] > 0 ? "pass" : "fail",
});
const diff = worstOf("maxLogprobDiff");
const gap = worstOf("maxGreedyGap");
const z = worstOf("likelihoodZ");
const floor = worstOf("minLogprob");
// On quantized weights: how many of these honest checks the F32 tolerances would have failed (by
// the two margins they tighten most), the case for giving quantized models their own.
const overFloatTolerance = NAMES.reduce(
  (a, n) =>
    a +
    reports[n].filter(
      ({ r }) =>
        ((r.metrics.maxLogprobDiff as number | undefined) ?? 0) > DEFAULT_LLM_TOLERANCES.logprobDiffNats ||
        ((r.metrics.maxGreedyGap as number | undefined) ?? 0) > DEFAULT_LLM_TOLERANCES.greedyGapNats,
    ).length,
  0,
);
const flips = margins.flatMap((x) => x.margins.filter((m) => m.key === "argmaxFlips").map((m) => m.worst));
const rows: Row[] = [
  ...NAMES.map(fairRow),
  {
    metric: "worst logprob difference (reported vs verifier's, absolute) over all checks, nats",
    tessera: num(diff),
    baseline: `tolerance ${TOL.logprobDiffNats}`,
    versus: diff > 0 ? `${(TOL.logprobDiffNats / diff).toFixed(0)}× below` : "—",
    bar: "—",
    result: "info",
  },
  {
    metric: "worst greedy gap (top logit − claimed token's) over all greedy checks, nats",
    tessera: num(gap),
    baseline: `tolerance ${TOL.greedyGapNats}`,
    versus: gap > 0 ? `${(TOL.greedyGapNats / gap).toFixed(0)}× below` : "—",
    bar: "—",
    result: "info",
  },
  {
    metric: `lowest likelihood z-score over sampled checks (≥ ${TOL.minTokensForZ} tokens)`,
    tessera: num(z),
    baseline: `threshold ${TOL.minLikelihoodZ}`,
    versus: `${num(z - TOL.minLikelihoodZ)} above`,
    bar: "—",
    result: "info",
  },
];

const table = (name: Name) => {
  const m = margins.find((x) => x.verifier === name);
  return [
    `${who(name)}, ${checkedCount[name]} results checked:`,
    "",
    "| margin | results | median | 1 in 100 | 1 in 1,000 | worst | tolerance | headroom |",
    "|---|---|---|---|---|---|---|---|",
    ...(m?.margins ?? []).map(
      (x) =>
        `| ${x.title} | ${x.n} | ${num(x.p50)} | ${num(x.p1in100)} | ${num(x.p1in1000)} | ${num(x.worst)} | ${MARGINS.find((y) => y.key === x.key)?.bar} | ${x.headroom} |`,
    ),
  ];
};

const durationS = (performance.now() - t0) / 1000;
const { command, reproduce } = commandLine(BENCH, nonDefaultFlags(FLAGS, flags));
const file = writeResult({
  bench: RESULT,
  title:
    `Fairness to the honest: ${produced} honest tiny-model (${WEIGHTS}) results (provider ${label(providerSetup)}) checked by ` +
    `runtime.verify on verifiers set up otherwise (${NAMES.map((n) => `${n}: ${label(setups[n])}`).join("; ")}): false fails and margins`,
  date: new Date().toISOString(),
  command,
  reproduce,
  machine: machine(),
  durationS,
  rows,
  notes: [
    `Mix (seed ${flags.seed}): ${outputs.greedy} greedy and ${produced - outputs.greedy} seeded-sampled jobs (temperature 0.3–1.5, top-k none/5/40/100, top-p none/0.5/0.9), ` +
      `${outputs.chat} chat and ${produced - outputs.chat} prompt inputs (1–12 words; 8 % of 40–120), ${outputs.withStop} with a stop string, max_tokens from ${LENGTHS.join("/")}: ` +
      `${outputs.tokens} output tokens (${(outputs.tokens / Math.max(1, produced)).toFixed(1)} per result), finish ${outputs.stop} stop / ${outputs.length} length.`,
    `Each result is generated by the provider runtime (${label(providerSetup)}: the prompt prefilled in one batch, then one token per decode) and handed unchanged to runtime.verify — the verifiers' code path, with the tolerances it picks for these weights — of ${NAMES.map(who).join(", ")}. The teacher-forced pass reads every position of prompt + output in chunks of the verifier's batch size, so its float order differs from generation's in every set-up.`,
    `False fails: ${NAMES.map((n) => `${n} ${failCount[n]} of ${checkedCount[n]}`).join(", ")}; ${totalFails} in ${totalChecks} checks in all (goal 0: each would be a false slash risk). ${failures.length ? `Failing cases (spec, claim, report) are in details.failures of ${RESULT}.json.` : "No failing case to save."}${errors.length ? ` ${errors.length} jobs failed to generate (details.errors).` : ""}`,
    `Headroom over all checks: worst logprob difference ${num(diff)} nats against ${TOL.logprobDiffNats}; worst greedy gap ${num(gap)} against ${TOL.greedyGapNats} (greedy tokens that were not the verifier's argmax: at most ${Math.max(0, ...flips)} in a result); lowest token log-probability ${num(floor)} against ${TOL.floorLogprob}; lowest z-score ${num(z)} against ${TOL.minLikelihoodZ}.`,
    ...(WEIGHTS === "f32"
      ? []
      : [
          `Quantized weights: ${overFloatTolerance} of the ${totalChecks} honest checks have a logprob difference or a greedy gap over the F32 tolerances (${DEFAULT_LLM_TOLERANCES.logprobDiffNats} / ${DEFAULT_LLM_TOLERANCES.greedyGapNats} nats): each would have been a false fail had the verifier not picked the quantized tolerances (${TOL.logprobDiffNats} / ${TOL.greedyGapNats}) from the file's tensor types.`,
        ]),
    `Time (shared 2-core machine, for scale only): generation ${(ms.generate / 1000).toFixed(1)} s; ${NAMES.map((n) => `${n} ${(ms[n] / 1000).toFixed(1)} s (${(ms[n] / Math.max(1, checkedCount[n])).toFixed(1)} ms a check)`).join(", ")}. ` +
      "Two ggml threads on a loaded 2-core machine are slow and erratic for a 1.4 M-parameter model (threads spin at every barrier while other processes hold the cores), which is why C checks a share of the jobs.",
  ],
  sections: [
    {
      title: "Margins of honest results (the bad side of each distribution)",
      lines: NAMES.flatMap((n, i) => [...(i ? [""] : []), ...table(n)]),
    },
  ],
  details: {
    provider: providerSetup,
    setups,
    every,
    jobs: jobs.length,
    produced,
    lengths: LENGTHS,
    weights: WEIGHTS,
    tolerances: TOL,
    overFloatTolerance,
    outputs,
    checked: checkedCount,
    falseFails: failCount,
    ms,
    margins,
    failures,
    errors,
  },
});
process.stdout.write(
  `${JSON.stringify({ falseFails: failCount, checked: checkedCount, worst: { diff, gap, z, floor } })}\nwrote ${file} (${durationS.toFixed(0)} s)\n`,
);
process.exit(0);
