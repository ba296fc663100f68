// Verifying an LLM result without regenerating it: one teacher-forced pass of the model over
// prompt + claimed tokens (a prefill, far cheaper than token-by-token generation; see
// teacher-force.ts), then the checks in llm-checks.ts, plus what needs no model numbers: the text
// is what the tokens decode to, the finish reason is consistent with the tokens, and the metering
// recounts exactly.
import type { LlmJobSpec, LlmOutput, VerdictReport } from "@tessera/protocol";
import type { LlamaModel, Token } from "node-llama-cpp";
import { prepareInput } from "../llm/input.js";
import { decodeOutputText } from "../llm/output-text.js";
import type { LlmRuntime } from "../llm/runtime.js";
import { llmStandardUnits } from "../llm/units.js";
import type { ClaimedResult, VerifyContext } from "../types.js";
import { type CheckOutcome, checkGreedy, checkLogprobs, checkSampled } from "./llm-checks.js";
import { teacherForce } from "./teacher-force.js";
import { type LlmTolerances, llmTolerancesFor } from "./tolerances.js";

export async function verifyLlmResult(
  rt: Pick<LlmRuntime, "withModel">,
  spec: LlmJobSpec,
  claim: ClaimedResult,
  ctx: VerifyContext,
  /** default: by the model's weights (llmTolerancesFor) */
  tolerances?: LlmTolerances,
): Promise<VerdictReport> {
  if (!("tokens" in claim.output)) return fail(["an llm job's output must have tokens"], "shape");
  const output = claim.output;
  if (output.tokens.length !== output.logprobs.length)
    return fail([`${output.tokens.length} tokens but ${output.logprobs.length} logprobs`], "shape");
  return rt.withModel(
    spec.model,
    async ({ model, sequence, info }) => {
      // an id past the vocabulary must never reach llama.cpp (detokenizing it crashes the process)
      const vocab = vocabularySize(model);
      if (output.tokens.some((t) => t >= vocab))
        return fail([`a claimed token id is outside the vocabulary of ${vocab}`], "vocab");
      const tol = tolerances ?? llmTolerancesFor(model.fileInfo.tensorInfo ?? []);
      const prompt = prepareInput(model, spec.input);
      const outcomes: CheckOutcome[] = [
        checkMetering(spec, output, claim, prompt.tokens.length, info.parameters),
        checkTextAndFinish(model, spec, output, prompt),
      ];
      if (output.tokens.length > 0) {
        const params = spec.params;
        const greedy = params.temperature === 0;
        const top = greedy ? 1 : (params.topK ?? tol.defaultCandidates);
        const measures = await teacherForce(sequence, prompt.tokens, output.tokens as Token[], {
          top,
          signal: ctx.signal,
        });
        outcomes.push(checkLogprobs(measures, output.logprobs, tol));
        outcomes.push(greedy ? checkGreedy(measures, tol) : checkSampled(measures, params, tol));
      }
      const reasons = outcomes.flatMap((o) => o.reasons);
      return {
        pass: reasons.length === 0,
        reasons,
        checks: outcomes.flatMap((o) => o.checks),
        metrics: Object.assign(
          // the tolerances applied travel with the margins, so thresholds can be tuned per kind of model
          {
            tokensChecked: output.tokens.length,
            greedyGapToleranceNats: tol.greedyGapNats,
            logprobToleranceNats: tol.logprobDiffNats,
          },
          ...outcomes.map((o) => o.metrics),
        ),
      };
    },
    ctx.signal,
  );
}

function vocabularySize(model: LlamaModel): number {
  return model.fileInfo.metadata.tokenizer?.ggml?.tokens?.length ?? 0;
}

function fail(reasons: string[], check: string): VerdictReport {
  return { pass: false, reasons, checks: [check], metrics: {} };
}

/** Billing recount: tokens in and out, and the standard units they imply. */
function checkMetering(
  spec: LlmJobSpec,
  output: LlmOutput,
  claim: ClaimedResult,
  promptTokens: number,
  parameters: number,
): CheckOutcome {
  const reasons: string[] = [];
  const u = claim.units;
  if (u.inputTokens !== promptTokens)
    reasons.push(`billed ${u.inputTokens} input tokens, the prompt has ${promptTokens}`);
  if (u.outputTokens !== output.tokens.length)
    reasons.push(`billed ${u.outputTokens} output tokens, returned ${output.tokens.length}`);
  if (output.tokens.length > spec.limits.maxOutputTokens) reasons.push("more output tokens than the job allows");
  const expected = llmStandardUnits(parameters, promptTokens + output.tokens.length);
  if (u.standardUnits !== expected)
    reasons.push(`billed ${u.standardUnits} standard units, the tokens imply ${expected}`);
  return { reasons, checks: ["metering"], metrics: { billedUnitsOver: u.standardUnits - expected } };
}

/** The text is exactly what the tokens decode to, and the finish reason is the true one. */
function checkTextAndFinish(
  model: LlamaModel,
  spec: LlmJobSpec,
  output: LlmOutput,
  prompt: { tokens: Token[]; stopStrings: string[]; stopTokens: Token[] },
): CheckOutcome {
  const stops = [...(spec.params.stop ?? []), ...prompt.stopStrings];
  const tokens = output.tokens as Token[];
  const full = decodeOutputText(model, prompt.tokens, tokens, stops, prompt.stopTokens);
  const reasons: string[] = [];
  if (full.text !== output.text) reasons.push("the text is not what the tokens decode to");
  // where generation stops as it runs, not where decoding a prefix would: at its end, a prefix's
  // open character is settled as U+FFFD, which a stop string holding one matches, yet the honest
  // run went on to the token that completed (or disproved) that character
  if (full.stopAt >= 0 && full.stopAt < tokens.length - 1)
    reasons.push("tokens continue past the point where generation stops");
  if (output.finishReason === "stop" && !full.stopped)
    reasons.push("finishReason stop, but nothing in the output ends generation (truncated)");
  if (output.finishReason === "length" && full.stopped) reasons.push("finishReason length, but the output stops");
  if (output.finishReason === "length" && tokens.length !== spec.limits.maxOutputTokens)
    reasons.push(`finishReason length after ${tokens.length} of ${spec.limits.maxOutputTokens} tokens (truncated)`);
  return { reasons, checks: ["text", "finish"], metrics: {} };
}
