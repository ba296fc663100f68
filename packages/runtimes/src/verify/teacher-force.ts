// The model half of LLM verification: one prefill over prompt + claimed tokens (all but the last),
// then at every output position the numbers the checks need: the claimed token's logit, the top
// candidates (argmax first) and the softmax normaliser.
//
// node-llama-cpp's public `controlledEvaluate` reads positions one at a time, each read a round
// trip to the thread pool, and its top-n read sorts the whole vocabulary: on the tiny model that
// made the reads cost twice the prefill. The fast path drives the same native calls itself: the
// prefill keeps logits at the output positions, and the reads run many at once, each on its own
// sampler (a sampler holds a scratch buffer, so two reads must never share one), with the top-k
// found by llama.cpp's top-k sampler (a partial sort) instead of a full sort. It reaches into
// node-llama-cpp internals, so it is used only when they have the expected shape; otherwise the
// public path runs. Both return identical numbers (teacher-force.test.ts).
import type { ControlledEvaluateInputItem, LlamaContextSequence, Token } from "node-llama-cpp";
import type { PositionMeasure } from "./llm-checks.js";

/** Reads in flight at once: enough to keep libuv's 4 pool threads busy, few samplers to make. */
const LANES = 16;

/** What each output position needs: with `top` 1, only the argmax (greedy checks). */
export interface ForceOptions {
  top: number;
  signal: AbortSignal;
}

export async function teacherForce(
  sequence: LlamaContextSequence,
  promptTokens: Token[],
  claimed: Token[],
  opts: ForceOptions,
): Promise<PositionMeasure[]> {
  await sequence.clearHistory();
  const native = nativeHooks(sequence);
  return native ? forceNative(native, promptTokens, claimed, opts) : forcePublic(sequence, promptTokens, claimed, opts);
}

/** Whether this node-llama-cpp exposes what the fast path needs (a test pins it for ours). */
export function nativeReadsAvailable(sequence: LlamaContextSequence): boolean {
  return nativeHooks(sequence) !== undefined;
}

// ---- the fast path -------------------------------------------------------------------------------

/** node-llama-cpp's sampleToken result: [token, probabilities, confidence, flat [id, logit, …], Σ] */
type RawRead = [number, unknown, unknown, number[] | null, number | null];

interface NativeSampler {
  applyConfig(config: Record<string, number>): void;
  dispose(): void;
}

interface NativeHooks {
  decode(
    tokens: Token[],
    logits: boolean[],
    onLogits: (batchIndex: number, tokenIndex: number) => undefined,
    afterBatch: () => Promise<void>,
  ): Promise<unknown>;
  /** [filter tokens, include max, include min, include selected, include top n], Σ weight wanted */
  read(
    batchIndex: number,
    sampler: NativeSampler,
    logits: [number[], false, false, boolean, number],
    weight: boolean,
  ): Promise<RawRead>;
  sampler(config: Record<string, number>): NativeSampler;
}

function nativeHooks(sequence: LlamaContextSequence): NativeHooks | undefined {
  // biome-ignore lint/suspicious/noExplicitAny: node-llama-cpp internals, checked for shape below
  const seq = sequence as any;
  const ctx = seq._context?._ctx;
  const bindings = seq.model?._llama?._bindings;
  const model = seq.model?._model;
  if (
    typeof seq._decodeTokens !== "function" ||
    seq._decodeTokens.length !== 7 ||
    seq._contextShift === undefined ||
    typeof ctx?.sampleToken !== "function" ||
    typeof bindings?.AddonSampler !== "function" ||
    model === undefined
  )
    return undefined;
  return {
    decode: (tokens, logits, onLogits, afterBatch) =>
      seq._decodeTokens(
        tokens,
        logits,
        5, // node-llama-cpp's default evaluation priority
        seq._tokenMeter,
        { size: seq._contextShift.size, strategy: seq._contextShift.strategy },
        onLogits,
        afterBatch,
      ),
    read: (batchIndex, sampler, logits, weight) => ctx.sampleToken(batchIndex, sampler, false, false, logits, weight),
    sampler: (config) => {
      const s = new bindings.AddonSampler(model) as NativeSampler;
      s.applyConfig(config);
      return s;
    },
  };
}

async function forceNative(
  hooks: NativeHooks,
  promptTokens: Token[],
  claimed: Token[],
  { top, signal }: ForceOptions,
): Promise<PositionMeasure[]> {
  const all = [...promptTokens, ...claimed];
  const first = promptTokens.length - 1;
  const inputs = all.slice(0, -1);
  const measures: PositionMeasure[] = new Array(claimed.length);
  // Greedy sampler: its pick is the argmax, and "include selected" returns its logit beside the
  // claimed one, with the normaliser, in one pass over the vocabulary and no sort.
  const lanes = Array.from({ length: Math.min(LANES, claimed.length) }, () => ({
    argmax: hooks.sampler({ temperature: 0 }),
    // top-k then temperature 1 (an exact no-op on the logits) then a draw nobody reads
    topK: top > 1 ? hooks.sampler({ topK: top, temperature: 1, seed: 0 }) : undefined,
  }));
  let queue: Array<[batchIndex: number, position: number]> = [];
  let failure: unknown;
  let closed = false;
  let reading: Promise<void> = Promise.resolve();
  const readBatch = async (work: typeof queue) => {
    let next = 0;
    await Promise.all(
      lanes.map(async (lane) => {
        while (next < work.length) {
          const [batchIndex, position] = work[next++] as [number, number];
          const token = all[position + 1] as Token;
          const [argmax, best] = await Promise.all([
            hooks.read(batchIndex, lane.argmax, [[token], false, false, true, 0], true),
            lane.topK ? hooks.read(batchIndex, lane.topK, [[], false, false, false, top], false) : undefined,
          ]);
          measures[position - first] = toMeasure(token, argmax, best, position);
        }
      }),
    );
  };
  // Never rejects: it runs inside node-llama-cpp's decode loop, where a throw would leave the
  // decode hanging. A failure or an abort is kept and thrown once the decode is over.
  const drain = (): Promise<void> => {
    const work = queue;
    queue = [];
    if (closed || failure !== undefined || signal.aborted) return reading;
    reading = reading
      .then(() => readBatch(work))
      .catch((err: unknown) => {
        failure ??= err;
      });
    return reading;
  };
  try {
    await hooks.decode(
      inputs,
      inputs.map((_, i) => i >= first),
      (batchIndex, tokenIndex) => {
        queue.push([batchIndex, tokenIndex]);
        return undefined;
      },
      drain, // awaited before the next batch's decode overwrites these logits
    );
    await drain(); // the last batch: node-llama-cpp may resolve before its after-batch hook
  } finally {
    // a sampler disposed while a read still uses it would be freed under that read
    await reading;
    closed = true;
    for (const lane of lanes) {
      lane.argmax.dispose();
      lane.topK?.dispose();
    }
  }
  signal.throwIfAborted();
  if (failure !== undefined) throw failure;
  return measures;
}

function toMeasure(claimed: Token, argmax: RawRead, best: RawRead | undefined, position: number): PositionMeasure {
  const [argmaxToken, , , pairs, weight] = argmax;
  if (!pairs || weight === null) throw new Error(`llama.cpp returned no logits at position ${position}`);
  let claimedLogit = Number.NaN;
  let maxLogit = Number.NaN;
  for (let i = 0; i < pairs.length; i += 2) {
    if (pairs[i] === claimed) claimedLogit = pairs[i + 1] as number;
    if (pairs[i] === argmaxToken) maxLogit = pairs[i + 1] as number;
  }
  let topList: Array<[number, number]> = [[argmaxToken, maxLogit]];
  if (best) {
    const flat = best[3] ?? [];
    topList = [];
    for (let i = 0; i < flat.length; i += 2) topList.push([flat[i] as number, flat[i + 1] as number]);
  }
  return { claimed, claimedLogit, top: topList, totalLogitWeight: weight };
}

// ---- the public path -----------------------------------------------------------------------------

/** The fallback, exported so tests can hold the fast path to its numbers. Expects a cleared sequence. */
export async function forcePublic(
  sequence: LlamaContextSequence,
  promptTokens: Token[],
  claimed: Token[],
  { top, signal }: ForceOptions,
): Promise<PositionMeasure[]> {
  const all = [...promptTokens, ...claimed];
  const first = promptTokens.length - 1;
  const batch = sequence.context.batchSize;
  const items: ControlledEvaluateInputItem[] = all.slice(0, -1).map((t, i) =>
    i < first
      ? t
      : [
          t,
          {
            generateNext: {
              logits: { filter: { tokens: [all[i + 1] as Token], includeTop: top } },
              totalLogitWeight: true,
            },
          },
        ],
  );
  const measures: PositionMeasure[] = [];
  for (let start = 0; start < items.length; start += batch) {
    signal.throwIfAborted();
    const chunk = items.slice(start, start + batch);
    const out = await sequence.controlledEvaluate(chunk);
    for (let j = 0; j < chunk.length; j++) {
      const i = start + j;
      if (i < first) continue;
      const next = out[j]?.next;
      const claimedToken = all[i + 1] as Token;
      if (!next?.logits || next.totalLogitWeight === undefined)
        throw new Error(`llama.cpp returned no logits at position ${i}`);
      const entries = [...next.logits.entries()] as Array<[number, number]>;
      // includeTop sorts the map best first, so a claimed token outside the top comes after it
      measures.push({
        claimed: claimedToken,
        claimedLogit: next.logits.get(claimedToken) as number,
        top: entries.slice(0, top),
        totalLogitWeight: next.totalLogitWeight,
      });
    }
  }
  return measures;
}
