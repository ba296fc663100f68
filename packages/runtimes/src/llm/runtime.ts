// The LLM runtime: loads GGUF models through node-llama-cpp and executes LlmJobSpecs on them,
// up to `concurrency` at once, deterministically (see generate.ts and loaded-model.ts).

import { realpath } from "node:fs/promises";
import { resolve } from "node:path";
import {
  type LlmJobSpec,
  type LlmOutput,
  type ModelInfo,
  PROMPT_TOO_LONG,
  type VerdictReport,
} from "@tessera/protocol";
import {
  type ChatWrapper,
  getLlama,
  type Llama,
  type LlamaContextSequence,
  LlamaLogLevel,
  type LlamaModel,
} from "node-llama-cpp";
import {
  type ClaimedResult,
  type ExecuteContext,
  type ExecuteResult,
  JobFault,
  type Runtime,
  type VerifyContext,
} from "../types.js";
import { verifyLlmResult } from "../verify/llm-verify.js";
import { chatWrapperFor } from "./chat-format.js";
import { generate } from "./generate.js";
import { inputBytes, prepareInput } from "./input.js";
import { LoadedModel, type Slot } from "./loaded-model.js";
import { Semaphore } from "./semaphore.js";
import { llmStandardUnits } from "./units.js";

export interface LlmRuntimeOptions {
  /** GGUF files to serve; each is identified by the sha256 of its bytes */
  modelPaths: string[];
  /** jobs executed at once (each on its own llama.cpp context); default 1 */
  concurrency?: number;
  /** threads per job; default 1 for models under 100M parameters, else cores / concurrency */
  threads?: number;
  /** context size per slot in tokens; default min(training context, 4096) */
  contextSize?: number;
  /** prompt tokens per llama.cpp decode call; default min(512, contextSize) */
  batchSize?: number;
  /** false (default): CPU only; "auto": the best GPU backend with a prebuilt binary, else CPU */
  gpu?: false | "auto";
  /** default false, so results do not depend on whether the backend supports it */
  flashAttention?: boolean;
}

/** What a verifier gets from `withModel`: a loaded model and a freshly cleared sequence. */
export interface ModelHandle {
  info: ModelInfo;
  model: LlamaModel;
  sequence: LlamaContextSequence;
  chatWrapper: ChatWrapper;
}

export interface LlmExecuteResult extends ExecuteResult {
  output: LlmOutput;
}

export interface LlmRuntime extends Runtime<LlmJobSpec> {
  execute(spec: LlmJobSpec, ctx: ExecuteContext): Promise<LlmExecuteResult>;
  verify(spec: LlmJobSpec, claim: ClaimedResult, ctx: VerifyContext): Promise<VerdictReport>;
  models(): ModelInfo[];
  /** Runs `fn` on a slot of the model (counted against `concurrency`), e.g. a teacher-forced pass. */
  withModel<T>(modelId: string, fn: (handle: ModelHandle) => Promise<T>, signal?: AbortSignal): Promise<T>;
}

export async function createLlmRuntime(options: LlmRuntimeOptions): Promise<LlmRuntime> {
  const concurrency = options.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError("concurrency must be a positive integer");
  // build "never": no compiling or downloading at run time; the prebuilt binary or an error.
  const llama = await getLlama({
    gpu: options.gpu ?? false,
    build: "never",
    skipDownload: true,
    progressLogs: false,
    logLevel: LlamaLogLevel.error,
    // 0 = no global thread budget: each context always uses exactly its own thread count.
    maxThreads: 0,
  });
  const byId = new Map<string, LoadedModel>();
  try {
    for (const path of await distinctFiles(options.modelPaths)) {
      const loaded = await LoadedModel.load(llama, path, {
        contextSize: options.contextSize,
        batchSize: options.batchSize,
        threads: options.threads,
        flashAttention: options.flashAttention ?? false,
        concurrency,
      });
      if (byId.has(loaded.info.id))
        await loaded.dispose(); // the same bytes under two paths
      else byId.set(loaded.info.id, loaded);
    }
  } catch (err) {
    await llama.dispose();
    throw err;
  }
  return new NodeLlamaRuntime(llama, byId, new Semaphore(concurrency));
}

/**
 * The paths less those naming a file already named (again, as ./a.gguf, through a link), so each
 * file is loaded once. The same bytes in two files are still told apart only by their hash, after
 * loading (the second copy is then disposed): hashing before loading would delay every start.
 */
async function distinctFiles(paths: string[]): Promise<string[]> {
  const seen = new Set<string>();
  const distinct: string[] = [];
  for (const path of paths) {
    // a path that does not resolve is kept: loading it says what is wrong with it
    const file = await realpath(path).catch(() => resolve(path));
    if (seen.has(file)) continue;
    seen.add(file);
    distinct.push(path);
  }
  return distinct;
}

class NodeLlamaRuntime implements LlmRuntime {
  readonly name = "llm" as const;
  private closed = false;

  constructor(
    private readonly llama: Llama,
    private readonly byId: Map<string, LoadedModel>,
    private readonly permits: Semaphore,
  ) {}

  models(): ModelInfo[] {
    return [...this.byId.values()].map((m) => ({ ...m.info }));
  }

  async execute(spec: LlmJobSpec, ctx: ExecuteContext): Promise<LlmExecuteResult> {
    const loaded = this.lookup(spec.model);
    const maxOutputTokens = spec.limits?.maxOutputTokens ?? 256;
    const contextSize = loaded.info.contextSize;
    if (maxOutputTokens > contextSize) {
      throw new JobFault(`maxOutputTokens ${maxOutputTokens} exceeds the model's context of ${contextSize} tokens`);
    }
    const room = contextSize - maxOutputTokens;
    // llama.cpp's tokenizer takes time quadratic in the text (160,000 characters: 4.5 s with the
    // event loop blocked, so no heartbeat goes out); a text with more bytes than the room's tokens
    // could ever spell is refused untokenized
    const bytes = inputBytes(spec.input);
    const atLeast = Math.ceil(bytes / loaded.maxTokenBytes);
    if (atLeast > room)
      throw new JobFault(
        `${PROMPT_TOO_LONG}at least ${atLeast} tokens (${bytes} bytes, a token is at most ${loaded.maxTokenBytes}), ` +
          `but the context of ${contextSize} tokens with maxOutputTokens ${maxOutputTokens} leaves room for at most ${room}`,
      );
    const prompt = prepareInput(loaded.model, spec.input);
    if (prompt.tokens.length === 0) throw new JobFault("the prompt is empty and the model adds no BOS token");
    if (prompt.tokens.length > room) {
      throw new JobFault(
        `${PROMPT_TOO_LONG}${prompt.tokens.length} tokens, but the context of ${contextSize} tokens with ` +
          `maxOutputTokens ${maxOutputTokens} leaves room for at most ${room}`,
      );
    }
    const params = spec.params ?? { temperature: 0 };
    const inputTokens = prompt.tokens.length;
    // the first chunk carries the prompt's length: a stream stopped mid-way bills the prompt too
    let first = true;
    const onChunk =
      ctx.onChunk &&
      ((chunk: { text: string; tokens: number[] }) => {
        ctx.onChunk?.(first ? { ...chunk, promptTokens: inputTokens } : chunk);
        first = false;
      });
    const output = await this.onSlot(loaded, ctx.signal, (slot) =>
      generate(slot.sequence, {
        promptTokens: prompt.tokens,
        maxOutputTokens,
        temperature: params.temperature ?? 0,
        topK: params.topK,
        topP: params.topP,
        seed: params.seed,
        stopStrings: [...(params.stop ?? []), ...prompt.stopStrings],
        stopTokens: prompt.stopTokens,
        signal: ctx.signal,
        onChunk,
      }),
    );
    const outputTokens = output.tokens.length;
    return {
      output,
      units: {
        inputTokens,
        outputTokens,
        standardUnits: llmStandardUnits(loaded.info.parameters, inputTokens + outputTokens),
      },
    };
  }

  /** Teacher-forced verification of a claimed result (verify/llm-verify.ts). */
  verify(spec: LlmJobSpec, claim: ClaimedResult, ctx: VerifyContext): Promise<VerdictReport> {
    return verifyLlmResult(this, spec, claim, ctx);
  }

  withModel<T>(modelId: string, fn: (handle: ModelHandle) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const loaded = this.lookup(modelId);
    return this.onSlot(loaded, signal, (slot) =>
      fn({
        info: { ...loaded.info },
        model: loaded.model,
        sequence: slot.sequence,
        chatWrapper: chatWrapperFor(loaded.model),
      }),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const loaded of this.byId.values()) await loaded.dispose();
    await this.llama.dispose();
  }

  private lookup(modelId: string): LoadedModel {
    if (this.closed) throw new Error("the LLM runtime is closed");
    const loaded = this.byId.get(modelId);
    // Not a JobFault: another node may hold the model, so the job can still succeed elsewhere.
    if (!loaded) throw new Error(`model ${modelId} is not loaded on this node`);
    return loaded;
  }

  private async onSlot<T>(
    loaded: LoadedModel,
    signal: AbortSignal | undefined,
    fn: (slot: Slot) => Promise<T>,
  ): Promise<T> {
    const release = await this.permits.acquire(signal);
    try {
      const slot = await loaded.acquire();
      try {
        return await fn(slot);
      } finally {
        loaded.release(slot);
      }
    } finally {
      release();
    }
  }
}
