import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import type { LlmJobSpec } from "@tessera/protocol";
import type { ControlledEvaluateInputItem, Token } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type TempModel, tempTinyModel } from "../gguf/testing.js";
import { type ExecuteContext, JobFault } from "../types.js";
import { createLlmRuntime, decodeOutputText, type LlmRuntime, tokenizeInput } from "./index.js";

let tiny: TempModel;
let rt: LlmRuntime;
let modelId: string;

beforeAll(async () => {
  tiny = await tempTinyModel();
  rt = await createLlmRuntime({ modelPaths: [tiny.path], concurrency: 2 });
  modelId = rt.models()[0]?.id as string;
});
afterAll(async () => {
  await rt?.close();
  await tiny?.cleanup();
});

function spec(
  input: LlmJobSpec["input"],
  params: Partial<LlmJobSpec["params"]> = {},
  maxOutputTokens = 48,
): LlmJobSpec {
  return { runtime: "llm", model: modelId, input, params: { temperature: 0, ...params }, limits: { maxOutputTokens } };
}
function ctx(extra: Partial<ExecuteContext> = {}): ExecuteContext {
  return { jobId: "job-1", attempt: 1, signal: new AbortController().signal, ...extra };
}
const prompt = (p: string) => ({ prompt: p });

describe("LLM runtime on the tiny model", () => {
  test("describes its model by content hash, name, parameter count and context size", () => {
    expect(rt.models()).toEqual([
      {
        id: "96389be0649aa1e54654fb5a2be80e0de9001a4b0e1003598cf93a10efee6b5b",
        name: "tessera-tiny",
        parameters: 1_437_312,
        contextSize: 2048,
      },
    ]);
  });

  test("greedy generation is identical run after run, and meters 2 x parameters x tokens", async () => {
    const a = await rt.execute(spec(prompt("The world is")), ctx());
    const b = await rt.execute(spec(prompt("The world is")), ctx());
    expect(b.output).toEqual(a.output);
    expect(a.output.tokens).toHaveLength(48);
    expect(a.output.finishReason).toBe("length");
    expect(new Set(a.output.tokens).size).toBeGreaterThan(10); // not one token repeated forever
    expect(a.output.logprobs.every((lp) => Number.isFinite(lp) && lp <= 0)).toBe(true);
    expect(a.units).toEqual({ inputTokens: 4, outputTokens: 48, standardUnits: Math.ceil((2 * 1_437_312 * 52) / 1e6) });
  });

  test("streamed chunks concatenate to the final text and tokens, identical to a non-streamed run", async () => {
    const chunks: Array<{ text: string; tokens?: number[] }> = [];
    const streamed = await rt.execute(spec(prompt("Hello world"), {}, 120), ctx({ onChunk: (c) => chunks.push(c) }));
    const plain = await rt.execute(spec(prompt("Hello world"), {}, 120), ctx());
    expect(streamed.output).toEqual(plain.output);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.map((c) => c.text).join("")).toBe(streamed.output.text);
    expect(chunks.flatMap((c) => c.tokens ?? [])).toEqual(streamed.output.tokens);
  });

  test("concurrent jobs on different slots give bit-identical results to lone runs", async () => {
    const jobs = ["The world is", "Once upon a time there was a small boy", "Tessera", "water"];
    const alone = [];
    for (const p of jobs) alone.push((await rt.execute(spec(prompt(p), {}, 64), ctx())).output);
    for (let round = 0; round < 2; round++) {
      const together = await Promise.all(jobs.map((p) => rt.execute(spec(prompt(p), {}, 64), ctx())));
      expect(together.map((r) => r.output)).toEqual(alone);
    }
  });

  test("a separate process loading the same file produces the same tokens and logprobs", async () => {
    const job = spec(prompt("The world is"), {}, 32);
    const here = await rt.execute(job, ctx());
    const runtimeUrl = pathToFileURL(fileURLToPath(new URL("./index.ts", import.meta.url))).href;
    const script = `
      const { createLlmRuntime } = await import(${JSON.stringify(runtimeUrl)});
      const rt = await createLlmRuntime({ modelPaths: [${JSON.stringify(tiny.path)}] });
      const r = await rt.execute(${JSON.stringify(job)}, { jobId: "x", attempt: 1, signal: new AbortController().signal });
      process.stdout.write(JSON.stringify(r.output));
      await rt.close();`;
    // A script file, not `-e`: node-llama-cpp forks itself with our execArgv to test its binary.
    const file = join(tiny.dir, "generate-once.mjs");
    await writeFile(file, script);
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", file], {
      cwd: fileURLToPath(new URL("../../../..", import.meta.url)),
    });
    expect(JSON.parse(stdout)).toEqual(here.output);
  });

  test("seeded sampling is reproducible for a seed and differs across seeds", async () => {
    const run = (seed: number) =>
      rt.execute(spec(prompt("The world is"), { temperature: 0.9, topP: 0.95, topK: 40, seed }), ctx());
    const [a, b, c] = [await run(1), await run(1), await run(2)];
    expect(b.output).toEqual(a.output);
    expect(c.output.tokens).not.toEqual(a.output.tokens);
    expect(a.output.logprobs.every((lp) => Number.isFinite(lp) && lp <= 0)).toBe(true);
    const [x, y] = await Promise.all([run(3), run(3)]);
    expect(y.output).toEqual(x.output);
  });

  test("stops before a stop string, keeping the tokens generated up to it", async () => {
    const free = await rt.execute(spec(prompt("The world is"), {}, 64), ctx());
    const words = free.output.text.split(" ").filter((w) => /^[a-z]{3,}$/.test(w));
    const stop = ` ${words[3]}`;
    const at = free.output.text.indexOf(stop);
    expect(at).toBeGreaterThan(0);
    const chunks: string[] = [];
    const cut = await rt.execute(
      spec(prompt("The world is"), { stop: [stop] }, 64),
      ctx({ onChunk: (c) => chunks.push(c.text) }),
    );
    expect(cut.output.finishReason).toBe("stop");
    expect(cut.output.text).toBe(free.output.text.slice(0, at));
    expect(chunks.join("")).toBe(cut.output.text);
    expect(free.output.tokens.slice(0, cut.output.tokens.length)).toEqual(cut.output.tokens);
    expect(cut.units.outputTokens).toBe(cut.output.tokens.length);
  });

  test("caps output at maxOutputTokens with finishReason length", async () => {
    const r = await rt.execute(spec(prompt("The world is"), {}, 5), ctx());
    expect(r.output.tokens).toHaveLength(5);
    expect(r.output.finishReason).toBe("length");
  });

  test("rejects a prompt that does not fit the context with maxOutputTokens as a JobFault", async () => {
    const long = "the ".repeat(2100);
    await expect(rt.execute(spec(prompt(long), {}, 16), ctx())).rejects.toBeInstanceOf(JobFault);
    await expect(rt.execute(spec(prompt("the ".repeat(2000)), {}, 100), ctx())).rejects.toThrow(/prompt too long/);
  });

  test("refuses a text with more bytes than the context's tokens could spell without tokenizing it", async () => {
    // the tiny vocabulary's longest piece is "<|im_start|>" (12 bytes): 2,000,000 bytes are at
    // least 166,667 tokens; tokenizing them would block the thread for minutes
    const huge = "é".repeat(1_000_000);
    await expect(rt.execute(spec(prompt(huge), {}, 16), ctx())).rejects.toThrow(
      "prompt too long: at least 166667 tokens (2000000 bytes, a token is at most 12)",
    );
    const chat = { messages: [{ role: "user" as const, content: huge }] };
    await expect(rt.execute(spec(chat, {}, 16), ctx())).rejects.toBeInstanceOf(JobFault);
  });

  test("a long prompt within the context is prefilled in batches and generates", async () => {
    const r = await rt.execute(spec(prompt("the world of water ".repeat(300)), {}, 8), ctx());
    expect(r.units.inputTokens).toBeGreaterThan(512);
    expect(r.output.tokens).toHaveLength(8);
  });

  test("aborting stops the job with an AbortError and frees its slot", async () => {
    const ac = new AbortController();
    let chunks = 0;
    const job = rt.execute(
      spec(prompt("The world is"), {}, 2000),
      ctx({
        signal: ac.signal,
        onChunk: () => {
          if (++chunks === 3) ac.abort();
        },
      }),
    );
    await expect(job).rejects.toMatchObject({ name: "AbortError" });
    expect(chunks).toBe(3);
    const pre = new AbortController();
    pre.abort();
    await expect(rt.execute(spec(prompt("x")), ctx({ signal: pre.signal }))).rejects.toMatchObject({
      name: "AbortError",
    });
    const after = await Promise.all([rt.execute(spec(prompt("a")), ctx()), rt.execute(spec(prompt("b")), ctx())]);
    for (const r of after) expect(r.output.tokens.length).toBeGreaterThan(0);
  });

  test("chat input is formatted with the model's ChatML template and generates", async () => {
    const messages = [
      { role: "system" as const, content: "Be brief." },
      { role: "user" as const, content: "Hello there" },
    ];
    const a = await rt.execute(spec({ messages }), ctx());
    const b = await rt.execute(spec({ messages }), ctx());
    expect(b.output).toEqual(a.output);
    expect(a.units.inputTokens).toBeGreaterThan(15);
  });

  test("stops at the end-of-sequence token, which counts as output but adds no text", async () => {
    // On this model and prompt greedy decoding reaches </s> (id 2) after 40 tokens.
    const r = await rt.execute(spec(prompt("b"), {}, 48), ctx());
    expect(r.output.finishReason).toBe("stop");
    expect(r.output.tokens.at(-1)).toBe(2);
    expect(r.output.tokens.length).toBeLessThan(48);
    expect(r.output.logprobs).toHaveLength(r.output.tokens.length);
    await rt.withModel(modelId, async ({ model }) => {
      const promptTokens = tokenizeInput(model, { prompt: "b" });
      // generation stopped at the end-of-sequence token, the last one
      expect(decodeOutputText(model, promptTokens, r.output.tokens as Token[])).toEqual({
        text: r.output.text,
        stopped: true,
        stopAt: r.output.tokens.length - 1,
      });
    });
  });

  test("streams multi-byte characters whole when sampling produces byte tokens", async () => {
    let sawBytes = false;
    for (let seed = 0; seed < 8; seed++) {
      const chunks: Array<{ text: string; tokens?: number[] }> = [];
      const job = spec(prompt("日本語 é"), { temperature: 1.5, seed }, 96);
      const r = await rt.execute(job, ctx({ onChunk: (c) => chunks.push(c) }));
      sawBytes ||= r.output.tokens.some((t) => t >= 3 && t <= 258);
      expect(chunks.map((c) => c.text).join("")).toBe(r.output.text);
      expect(chunks.flatMap((c) => c.tokens ?? [])).toEqual(r.output.tokens);
      for (const c of chunks) expect(c.text).not.toMatch(/[\uD800-\uDBFF]$/); // no split surrogate pairs
      await rt.withModel(modelId, async ({ model }) => {
        expect(decodeOutputText(model, tokenizeInput(model, job.input), r.output.tokens as Token[]).text).toBe(
          r.output.text,
        );
      });
    }
    expect(sawBytes).toBe(true);
  });

  test("withModel gives a teacher-forced pass that agrees with greedy generation", async () => {
    const job = spec(prompt("The world is"), {}, 40);
    const r = await rt.execute(job, ctx());
    const agreement = await rt.withModel(modelId, async ({ model, sequence }) => {
      const promptTokens = tokenizeInput(model, job.input);
      const all = [...promptTokens, ...(r.output.tokens as Token[])];
      const first = promptTokens.length - 1;
      // Ask for the next-token logits at every position that predicts a claimed token.
      const items: ControlledEvaluateInputItem[] = all.slice(0, -1).map((t, i) =>
        i < first
          ? t
          : [
              t,
              {
                generateNext: {
                  logits: { filter: { tokens: [all[i + 1] as Token], includeTop: 1 } },
                  totalLogitWeight: true,
                },
              },
            ],
      );
      const out = await sequence.controlledEvaluate(items);
      let agree = 0;
      (r.output.tokens as Token[]).forEach((claimed, k) => {
        const next = out[first + k]?.next;
        const [top] = next?.logits?.entries() ?? [];
        const logprob =
          (next?.logits?.get(claimed) as number) - (top?.[1] as number) - Math.log(next?.totalLogitWeight as number);
        if (top?.[0] === claimed) agree++;
        expect(Math.abs(logprob - (r.output.logprobs[k] as number))).toBeLessThan(0.05);
      });
      return agree / r.output.tokens.length;
    });
    expect(agreement).toBeGreaterThanOrEqual(0.9);
  });

  test("unknown models are an ordinary error (another node may hold them), not a JobFault", async () => {
    const job = { ...spec(prompt("x")), model: "0".repeat(64) };
    await expect(rt.execute(job, ctx())).rejects.toThrow(/not loaded/);
    await expect(rt.execute(job, ctx())).rejects.not.toBeInstanceOf(JobFault);
  });
});
