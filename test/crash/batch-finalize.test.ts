// A gateway killed (SIGKILL) at the end of a batch: right after it saved the batch as
// finalizing, or right before it would save the batch as expired. After a restart every line the counts name must be
// in the output or error file, exactly once, charged once, and an expired batch must stay expired.
import { resolve } from "node:path";
import OpenAI, { toFile } from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { completionLines, fileLines } from "../helpers/batch-files.js";
import { TestNetwork, until } from "../helpers/network.js";

const HOOK = resolve(import.meta.dirname, "batch-crash-hook.mjs");

/** Runs a batch on a gateway that kills itself at `crashOn`, restarts it, and returns the batch once final. */
async function crashAndResume(net: TestNetwork, crashOn: string, n: number, maxTokens: number, window: string) {
  await net.startGateway({
    args: ["--batch-in-flight", "32"],
    nodeArgs: ["--import", HOOK],
    env: { TESSERA_CRASH_ON: crashOn },
  });
  for (let i = 0; i < 2; i++) await net.startProvider({ concurrency: 2 });
  await net.waitForProviders(2);
  const { apiKey, client } = await net.consumer();
  const openai = new OpenAI({ baseURL: `${net.url}/v1`, apiKey, maxRetries: 0 });
  const file = await openai.files.create({
    file: await toFile(
      completionLines(n, () => maxTokens),
      "in.jsonl",
    ),
    purpose: "batch",
  });
  const before = BigInt((await client.account()).balance);
  const batch = await openai.batches.create({
    input_file_id: file.id,
    endpoint: "/v1/completions",
    completion_window: window as "24h",
  });
  const gw = net.gateway;
  const signal = await until("the gateway to kill itself", () => gw?.child.signalCode ?? undefined, 240_000);
  expect(signal, gw?.output().slice(-2000)).toBe("SIGKILL");
  expect(gw?.output()).toContain("batch-crash-hook: SIGKILL");
  await net.startGateway(["--batch-in-flight", "32"]);
  const done = await until(
    "the batch final",
    async () => {
      const b = await openai.batches.retrieve(batch.id);
      return ["completed", "expired", "cancelled", "failed"].includes(b.status) ? b : undefined;
    },
    240_000,
  );
  const out = await fileLines(openai, done.output_file_id);
  const errs = await fileLines(openai, done.error_file_id);
  const ids = [...out, ...errs].map((l) => l.custom_id);
  expect(ids).toHaveLength(n);
  expect(new Set(ids).size).toBe(n);
  expect(done.request_counts).toEqual({ total: n, completed: out.length, failed: errs.length });
  const charged = out.reduce((a, l) => a + BigInt(l.response?.body.tessera?.cost ?? 0), 0n);
  const after = await client.account();
  expect(before - BigInt(after.balance)).toBe(charged);
  expect(after.escrow).toBe("0");
  expect((done as unknown as { tessera: { spent: string } }).tessera.spent).toBe(charged.toString());
  return { done, out, errs };
}

describe("batch end across a gateway crash", () => {
  let net: TestNetwork;
  afterEach(() => net.stop());

  it("a crash just after the batch is saved as finalizing loses no output line", async () => {
    net = new TestNetwork();
    const { done, out } = await crashAndResume(net, "finalizing", 300, 3, "24h");
    expect(done.status).toBe("completed");
    expect(out).toHaveLength(300);
  }, 600_000);

  it("a crash as the batch expires leaves it expired, with every line in a file", async () => {
    net = new TestNetwork();
    const { done, errs } = await crashAndResume(net, "before-final", 300, 300, "4s");
    expect(done.status).toBe("expired");
    expect(done.expired_at).not.toBeNull();
    expect(errs.some((e) => e.error?.code === "batch_expired")).toBe(true);
  }, 600_000);
});
