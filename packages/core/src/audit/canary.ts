// Canaries: jobs whose answer the gateway already knows, mixed into providers' work, and results
// the gateway knows to be wrong (or right), mixed into verifiers' audits. Pure: draws come in.
//
// A template is a real job whose result a verifier already passed (a trusted run). Re-submitted as
// a canary, the same spec must give the same output: for wasm (deterministic) any difference is a
// failed canary; for greedy llm a difference may be an honest float near-tie on other hardware,
// so it is not a verdict by itself but forces an audit, which decides. A verifier handed a
// known-wrong result must fail it; passing it is caught at once. Handed a known-good one (a result
// another verifier passed), failing it is a strike, as dissenting in a real audit is.
import { canonicalHash, type JobOutput, type JobSpec, type Units } from "@tessera/protocol";
import { z } from "zod";
import { FEES } from "../ledger/accounts.js";
import type { LedgerEvent } from "../ledger/postings.js";

export const CanaryPolicySchema = z
  .object({
    /** canary jobs submitted per settled real job (known answers for providers) */
    providerRate: z.number().min(0).max(1).default(0.02),
    /** canary audits (known-wrong or known-good results) sent per decided real audit */
    verifierRate: z.number().min(0).max(1).default(0.05),
    /**
     * known-good canary audits sent to a verifier per result it failed: failing honest results is
     * how a griefer earns (a share of each slash), and a known-good result is what it must fail too
     */
    failRate: z.number().min(0).max(1).default(1),
    /**
     * known-good canary audits may also be real results a single audit passed (sent again under
     * their own job id). Off by default: the public audit record shows such a job passed, so a
     * griefer that looks its audits up passes them and fails only fresh results, and the pass may be
     * one colluder's, which an honest verifier rightly fails and is struck for. Without it, a
     * known-good result is a canary job another operator's provider answered byte for byte.
     */
    auditedKnownGood: z.boolean().default(false),
    /** share of verifier canaries that are known-wrong (the rest are known-good) */
    wrongShare: z.number().min(0).max(1).default(0.5),
    /**
     * a known-wrong canary drawn after a passed audit waits this long for a real result it can be
     * made of (replayedKnownWrong: a settled job not drawn for audit, whose visible spec a template
     * shares); none by then, it goes out in the old form, signed by a throw-away identity
     */
    replayWaitMs: z.number().int().min(0).max(3_600_000).default(60_000),
    /** templates kept (oldest dropped first) */
    maxTemplates: z.number().int().min(1).max(10_000).default(64),
    /** canaries' escrow moved from fees at a time, so that fundings are rare and pay for no particular canary */
    reserve: z.number().int().min(1).max(1_000).default(20),
    /** mean of the random wait between the draw (a real job settling) and the canary's submission */
    meanDelayMs: z.number().int().min(0).max(3_600_000).default(5_000),
    /**
     * a canary audit not answered in this long is judged as an inconclusive answer would be (a
     * strike, nothing burned): silence cost nothing, so a verifier could leave unanswered what it
     * took for a canary (say whatever came soon after its fail) and answer the rest as it liked
     */
    unansweredMs: z.number().int().min(1).max(3_600_000).default(600_000),
  })
  .strict();
export type CanaryPolicy = z.infer<typeof CanaryPolicySchema>;

/** Can this settled job's result, once passed by a verifier, serve as a known answer? */
export function isTemplateCandidate(spec: JobSpec): boolean {
  if (spec.runtime === "wasm") return true;
  // sampled output depends on float noise through the sampler; only greedy is reproducible
  return spec.runtime === "llm" && (spec.params?.temperature ?? 0) === 0;
}

export type ProviderCanaryOutcome = "passed" | "caught" | "audit";

/** Judges a provider's canary result against the known answer's output hash. */
export function judgeProviderCanary(spec: JobSpec, knownHash: string, gotHash: string | null): ProviderCanaryOutcome {
  if (gotHash === knownHash) return "passed";
  return spec.runtime === "wasm" ? "caught" : "audit";
}

/**
 * Is a canary job's result a known-good result for verifier canaries? Only when it gave its
 * template's answer byte for byte and its provider is of another operator than the template's
 * (the operator of the real job's provider): then two independent parties produced it, and it was
 * never public as a passed result. A template whose operator is unknown (open across a restart)
 * does not count.
 */
export function independentlyReproduced(
  outcome: ProviderCanaryOutcome,
  templateOperator: string | undefined,
  canaryOperator: string,
): boolean {
  return outcome === "passed" && templateOperator !== undefined && templateOperator !== canaryOperator;
}

export type VerifierCanaryOutcome = "correct" | "caught" | "strike";

/**
 * Judges a verifier's verdict on a canary audit: passing a known-wrong result is caught at once.
 * An inconclusive answer ("could not check") is a strike whatever the result: a canary goes only
 * to a verifier that advertises the job's runtime and model, so one that cannot check it is not
 * doing the work it is paid for, and answering everything inconclusive must not escape judgement.
 */
export function judgeVerifierCanary(knownWrong: boolean, pass: boolean, inconclusive = false): VerifierCanaryOutcome {
  if (inconclusive) return "strike";
  if (knownWrong) return pass ? "caught" : "correct";
  return pass ? "correct" : "strike";
}

/**
 * A known-wrong version of a result with the same shape and length: llm tokens rotated by one
 * (text and logprobs kept, so only a verifier that really checks notices), wasm data with one
 * character changed. `u` in [0, 1) picks the position.
 */
export function corruptOutput(output: JobOutput, u: number): JobOutput {
  if ("tokens" in output) {
    const t = output.tokens;
    const rotated = [...t.slice(1), ...t.slice(0, 1)];
    const same = rotated.every((x, i) => x === t[i]);
    if (!same) return { ...output, tokens: rotated };
    // all tokens equal (or one token): change one id to a neighbour, still small enough to be in any vocab
    const i = Math.floor(u * Math.max(1, t.length));
    const tokens = t.length > 0 ? t.map((x, j) => (j === i ? (x > 0 ? x - 1 : x + 1) : x)) : [1];
    const logprobs = t.length > 0 ? output.logprobs : [-1];
    return { ...output, tokens, logprobs };
  }
  const d = output.data;
  if (d.length === 0) return { data: "AA==" };
  const i = Math.floor(u * d.length);
  const c = d[i] === "A" ? "B" : "A";
  return { data: d.slice(0, i) + c + d.slice(i + 1) };
}

/** A settled result, as the gateway stores it: what a known-wrong canary is made of, or a template. */
export interface ReplayResult {
  spec: JobSpec;
  output: JobOutput;
  outputHash: string;
  units: Units;
}

/** Slack (nats) beyond a verifier's tolerance by which a replayed result must miss its check. */
export const REPLAY_MARGIN_NATS = 0.5;

/**
 * The widest tolerances verifiers apply to a model's results (read from their verdicts' metrics,
 * which record them): how far an honest logprob may stray, and how far a greedy token may trail.
 */
export interface ReplayTolerances {
  logprobDiffNats: number;
  greedyGapNats: number;
}

/** The job spec as the public explorer shows it: all but the input. */
export function visibleSpec(spec: JobSpec): Omit<JobSpec, "input"> {
  const { input: _input, ...rest } = spec;
  return rest;
}

/** A replayed known-wrong result: the spec it goes out under, and whether its prompt has as many tokens. */
export interface ReplayFit {
  /** the result's own spec with the template's input: all a verifier can look up of the job agrees */
  spec: JobSpec;
  /** false: the metering recount fails it (a verifier that only tokenizes the prompt tells it) */
  sameInputCount: boolean;
}

/**
 * Can `result` (a real provider's genuine, signed result of one job) be sent to a verifier with
 * `template`'s input as a known-wrong canary? It goes out under its own spec with the template's
 * input, so all the explorer shows of its job (runtime, model or module, params, limits: all but
 * the input, which is private) agrees, and an honest verifier checking it must fail it with
 * certainty, not by chance:
 * - wasm (the template's spec shows the same, so the re-execution is the template's): it gives the
 *   template's output (deterministic), whose hash differs from the result's.
 * - llm (the same model; the template's output audited, so its logprobs are within the tolerance):
 *   when the template's prompt has fewer tokens than the result claims, the metering recount fails
 *   it. With the same count, only where the tokens part at a position i both reach:
 *   the context there is the one the template was generated in, whatever either job's params, so
 *   the template's token has at least its logprob less `tol.logprobDiffNats` and every other token
 *   at most ln(1 − that). The result's token there then has a claimed logprob above what the
 *   verifier reads by more than the tolerance plus REPLAY_MARGIN_NATS (any result: every llm
 *   verdict checks the claimed logprobs), or, for a greedy result, trails the greedy token by more
 *   than that. So sampled results are replayed too, under greedy templates' prompts. Without `tol`
 *   (no verdict on the model read yet) or without such a position (one output a prefix of the
 *   other, or a near-tie where they part), not used.
 */
export function replayedKnownWrong(
  result: ReplayResult,
  template: ReplayResult,
  tol?: ReplayTolerances,
): ReplayFit | null {
  if (result.outputHash === template.outputHash) return null;
  if (result.spec.runtime === "wasm") {
    if (canonicalHash(visibleSpec(result.spec)) !== canonicalHash(visibleSpec(template.spec))) return null;
    return { spec: template.spec, sameInputCount: true };
  }
  if (template.spec.runtime !== "llm" || template.spec.model !== result.spec.model) return null;
  const spec: JobSpec = { ...result.spec, input: template.spec.input };
  // a shorter prompt only: the prompt and the result's output then fit in any context the result's
  // job fitted (a longer one could overflow it, and a verifier that cannot run the check answers
  // inconclusive, which a canary counts against it)
  if (result.units.inputTokens !== template.units.inputTokens)
    return template.units.inputTokens < result.units.inputTokens ? { spec, sameInputCount: false } : null;
  const a = result.output;
  const b = template.output;
  if (!tol || !("tokens" in a) || !("tokens" in b) || b.logprobs.length !== b.tokens.length) return null;
  if (a.logprobs.length !== a.tokens.length) return null;
  const n = Math.min(a.tokens.length, b.tokens.length);
  let i = 0;
  while (i < n && a.tokens[i] === b.tokens[i]) i++;
  if (i === n) return null;
  const top = Math.min(0, (b.logprobs[i] as number) - tol.logprobDiffNats);
  // at most what the template's token leaves to all the others
  const other = Math.log1p(-Math.exp(top));
  const greedy = (result.spec.params?.temperature ?? 0) === 0;
  const greedyMiss = greedy && top - other > tol.greedyGapNats + REPLAY_MARGIN_NATS;
  const logprobMiss = (a.logprobs[i] as number) - other > tol.logprobDiffNats + REPLAY_MARGIN_NATS;
  return greedyMiss || logprobMiss ? { spec, sameInputCount: true } : null;
}

/** Funds the canary consumer from protocol fees: the protocol, not any consumer, pays for canaries. */
export function canaryFundEvent(id: string, canaryAccount: string, amount: bigint, at: number): LedgerEvent {
  if (amount <= 0n) throw new RangeError("a canary funding must be positive");
  return { id, kind: "audit_fee", at, transfers: [{ from: FEES, to: canaryAccount, amount }] };
}

/**
 * The wait before a drawn canary is submitted: exponential, so the time since the real job that
 * drew it (which settled on some provider that may be leased the canary next) says nothing.
 * `u` uniform in [0, 1).
 */
export function canaryDelayMs(meanMs: number, u: number): number {
  return Math.max(0, Math.round(-Math.log(1 - u) * meanMs));
}

export type CanaryDraw = { submit: true } | { submit: false; fund: bigint };

/**
 * What one canary draw does. With `escrow` in the canary account, it submits a canary. Without,
 * it moves enough from fees for `reserve` canaries of this size (what the fees hold, if at least
 * the shortfall) and submits nothing: a funding, which the public ledger shows, must never come
 * just before the canary it pays for, or the job leased next would be known as one. Null when
 * the fees cannot cover even this canary.
 */
export function canaryDraw(escrow: bigint, canaryAvailable: bigint, fees: bigint, reserve: number): CanaryDraw | null {
  if (canaryAvailable >= escrow) return { submit: true };
  const want = escrow * BigInt(reserve) - canaryAvailable;
  const fund = want < fees ? want : fees;
  return fund >= escrow - canaryAvailable ? { submit: false, fund } : null;
}

/**
 * Whether a canary of a class is streamed: at the share of real llm jobs of that class whose
 * client streamed them (`u` uniform in [0, 1)). A lease says whether a client streams the job, and
 * canaries never were, so a provider could cheat on streamed jobs with no canary among them.
 */
export function canaryStreams(streamed: number, total: number, u: number): boolean {
  return total > 0 && u * total < streamed;
}
