// One GGUF file held in memory: its identity (content hash, parameter count) and a pool of
// execution slots. A slot is a whole llama.cpp context with a single sequence, so concurrent jobs
// never share a batch or a KV cache and each job's numerics are exactly those of a lone run.
import { basename } from "node:path";
import type { ModelInfo } from "@tessera/protocol";
import type { Llama, LlamaContext, LlamaContextSequence, LlamaModel } from "node-llama-cpp";
import { readGgufParameterCount } from "../gguf/params.js";
import { chatWrapperFor } from "./chat-format.js";
import { sha256File } from "./hash-file.js";

export interface SlotSettings {
  /** tokens; default min(training context, 4096) */
  contextSize?: number;
  /** default min(512, contextSize) */
  batchSize?: number;
  /** threads per job; default: see defaultThreads */
  threads?: number;
  flashAttention: boolean;
  concurrency: number;
}

export interface Slot {
  context: LlamaContext;
  sequence: LlamaContextSequence;
}

/**
 * The most UTF-8 bytes any one token of the vocabulary stands for (an upper bound: a vocabulary's
 * stored pieces spell a space or a byte at least as long as the text they decode to). A text of B
 * bytes is then at least B / this many tokens, known without tokenizing it.
 */
function maxTokenBytes(model: LlamaModel): number {
  const pieces = (model.fileInfo.metadata as { tokenizer?: { ggml?: { tokens?: unknown } } })?.tokenizer?.ggml?.tokens;
  let max = 1;
  if (Array.isArray(pieces)) {
    for (const p of pieces) if (typeof p === "string") max = Math.max(max, Buffer.byteLength(p, "utf8"));
    return max;
  }
  for (const t of model.iterateAllTokens()) max = Math.max(max, Buffer.byteLength(model.detokenize([t], true), "utf8"));
  return max;
}

/**
 * A model file that could not be loaded (missing, unreadable, truncated, corrupt, or a context
 * that does not fit), naming the file: llama.cpp's own "Failed to load model", or a parse error
 * from deep in the GGUF reader, does not say which of several --models it was.
 */
export class ModelLoadError extends Error {
  constructor(
    readonly path: string,
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message || cause.name : String(cause);
    super(`cannot load the model file ${path} (is it complete, and a model llama.cpp supports?): ${reason}`, {
      cause,
    });
    this.name = "ModelLoadError";
  }
}

export class LoadedModel {
  private readonly idle: Slot[] = [];
  private readonly all: Slot[] = [];
  /** see maxTokenBytes: what lets a prompt that cannot fit be refused before it is tokenized */
  readonly maxTokenBytes: number;

  private constructor(
    readonly path: string,
    readonly model: LlamaModel,
    readonly info: ModelInfo,
    private readonly contextOptions: {
      contextSize: number;
      batchSize: number;
      threads: number;
      flashAttention: boolean;
    },
  ) {
    this.maxTokenBytes = maxTokenBytes(model);
  }

  /** Throws a ModelLoadError naming the file when it cannot be read, parsed or loaded. */
  static async load(llama: Llama, path: string, settings: SlotSettings): Promise<LoadedModel> {
    // allSettled: a model that loads while its hash or parameter count fails is disposed, not left behind
    const [hashed, counted, opened] = await Promise.allSettled([
      sha256File(path),
      readGgufParameterCount(path),
      llama.loadModel({ modelPath: path }),
    ]);
    if (hashed.status === "rejected" || counted.status === "rejected" || opened.status === "rejected") {
      if (opened.status === "fulfilled") await opened.value.dispose().catch(() => undefined);
      const failed = [opened, counted, hashed].find((r) => r.status === "rejected") as PromiseRejectedResult;
      throw new ModelLoadError(path, failed.reason);
    }
    const [id, parameters, model] = [hashed.value, counted.value, opened.value];
    try {
      return await LoadedModel.open(path, id, parameters, model, llama, settings);
    } catch (err) {
      await model.dispose().catch(() => undefined);
      throw new ModelLoadError(path, err);
    }
  }

  private static async open(
    path: string,
    id: string,
    parameters: number,
    model: LlamaModel,
    llama: Llama,
    settings: SlotSettings,
  ): Promise<LoadedModel> {
    const trained = model.trainContextSize;
    const contextSize = settings.contextSize ?? Math.min(trained > 0 ? trained : 4096, 4096);
    const contextOptions = {
      contextSize,
      batchSize: settings.batchSize ?? Math.min(512, contextSize),
      threads: settings.threads ?? defaultThreads(llama.cpuMathCores, settings.concurrency, parameters),
      flashAttention: settings.flashAttention,
    };
    const generalName = model.fileInfo.metadata?.general?.name;
    const name = (typeof generalName === "string" && generalName.trim() !== "" ? generalName : basename(path)).slice(
      0,
      200,
    );
    const loaded = new LoadedModel(path, model, { id, name, parameters, contextSize }, contextOptions);
    // Create the first slot now: it fails fast if the context does not fit, and tells us the
    // context size llama.cpp actually allocated (it may round up).
    const first = await loaded.createSlot();
    chatWrapperFor(model); // resolving a Jinja template takes a while: do it before the first job
    loaded.info.contextSize = first.context.contextSize;
    loaded.idle.push(first);
    return loaded;
  }

  /** A cleared slot, new or reused; the caller limits how many are out at once. */
  async acquire(): Promise<Slot> {
    const slot = this.idle.pop() ?? (await this.createSlot());
    await slot.sequence.clearHistory();
    return slot;
  }

  release(slot: Slot): void {
    if (!slot.sequence.disposed) this.idle.push(slot);
  }

  async dispose(): Promise<void> {
    for (const slot of this.all) await slot.context.dispose();
    await this.model.dispose();
  }

  private async createSlot(): Promise<Slot> {
    const o = this.contextOptions;
    const context = await this.model.createContext({
      contextSize: o.contextSize,
      batchSize: o.batchSize,
      threads: o.threads,
      sequences: 1,
      flashAttention: o.flashAttention,
      // a fixed size on every slot: a silently smaller retry would change what fits
      failedCreationRemedy: false,
    });
    const slot = { context, sequence: context.getSequence() };
    this.all.push(slot);
    return slot;
  }
}

/**
 * Threads per job. Measured on a 2-core machine: a 1.4M-parameter model ran ~1700 tok/s on one
 * thread and ~60 tok/s on two (ggml's thread sync costs more than the tiny matmuls), and jobs on
 * different slots oversubscribing the cores collapsed further. So: small models get one thread;
 * large ones split the math cores between the concurrent slots. (Outputs were bit-identical
 * across thread counts in those measurements; the thread count is a speed knob only.)
 */
export function defaultThreads(cpuMathCores: number, concurrency: number, parameters: number): number {
  if (parameters < 100_000_000) return 1;
  return Math.max(1, Math.floor(cpuMathCores / concurrency));
}
