// Consumer commands: submit a job, list or show jobs, show the account.
import { existsSync, readFileSync } from "node:fs";
import { MAX_WASM_FUEL } from "@tessera/protocol";
import type { JobView } from "@tessera/sdk";
import { type Command, Option } from "commander";
import { clientFrom, withClientFlags } from "../lib/credentials.js";
import { intFlag, numberFlag } from "../lib/flags.js";
import { formatCredits } from "../lib/format.js";
import { untilInterrupted } from "../lib/interrupt.js";

function print(json: boolean, value: unknown, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
}

function jobLine(j: JobView): string {
  // a failed job's error first: a WASM job that ran out of fuel or trapped has an (empty) output too
  const out =
    j.error ??
    (j.output
      ? "text" in j.output
        ? JSON.stringify(j.output.text.slice(0, 60))
        : JSON.stringify(Buffer.from(j.output.data, "base64").toString("utf8").slice(0, 60))
      : "");
  return `${j.id}  ${j.status.padEnd(9)} ${j.runtime.padEnd(4)} attempts=${j.attempts} cost=${j.cost ?? "-"}nc  ${out}`;
}

async function moduleId(client: ReturnType<typeof clientFrom>, module: string): Promise<string> {
  if (/^[0-9a-f]{64}$/.test(module)) return module;
  const { BUILTIN_MODULES, loadBuiltinModule } = await import("@tessera/runtimes");
  if ((BUILTIN_MODULES as readonly string[]).includes(module))
    return (await client.uploadBlob(await loadBuiltinModule(module as (typeof BUILTIN_MODULES)[number]))).id;
  if (!existsSync(module)) {
    const hint = `--module must be a sha256, a .wasm file or one of: ${BUILTIN_MODULES.join(", ")}`;
    throw new Error(/[/\\.]/.test(module) ? `--module: no such file ${module}` : hint);
  }
  const bytes = readFileSync(module);
  // checked here, not by the provider that would fail the job after it was paid for
  if (!bytes.subarray(0, 4).equals(WASM_MAGIC)) throw new Error(`--module: ${module} is not a WebAssembly module`);
  return (await client.uploadBlob(bytes)).id;
}

/** what every WebAssembly binary starts with: "\0asm" */
const WASM_MAGIC = Buffer.from([0x00, 0x61, 0x73, 0x6d]);

/** `tessera jobs` page size unless --limit says otherwise */
const JOBS_PAGE = 20;

export function registerClientCommands(program: Command): void {
  withClientFlags(
    program
      .command("submit")
      .description("submit a native job (llm or wasm)")
      .addOption(new Option("--runtime <name>", "llm or wasm").choices(["llm", "wasm"]).default("llm"))
      .option("--model <name|sha256>", "model for llm jobs (see /v1/models)")
      .option("--prompt <text>", "prompt for llm jobs (required for them)")
      .option("--max-tokens <n>", "output token cap", intFlag("max-tokens", 1, 32768), 64)
      .option("--temperature <t>", "0 = greedy", numberFlag("temperature", 0, 2), 0)
      .option("--module <name|sha256|file>", "WASM module: a builtin name, a .wasm file or a blob id")
      .option("--input <text>", "input bytes (UTF-8) for wasm jobs", "")
      .option(
        "--max-fuel <n>",
        "wasm: most instructions the job may execute, and bill (10^6 to the standard unit); default 10^6 per ms of its 10 s time cap",
        intFlag("max-fuel", 1, MAX_WASM_FUEL),
      )
      .option("--region <names...>", "only run in these regions")
      .option("--max-price <n>", "highest price per standard unit", intFlag("max-price"))
      .option("--idempotency-key <key>", "retry-safe submit key")
      .option("--wait", "wait for the result; exit code 1 unless it completed"),
  ).action(async (o) => {
    if (o.runtime === "llm" && !o.prompt) throw new Error("--prompt is required for llm jobs");
    if (o.runtime === "wasm" && !o.module) throw new Error("--module is required for wasm jobs");
    const client = clientFrom(o);
    const constraints = {
      ...(o.region ? { regions: o.region } : {}),
      ...(o.maxPrice !== undefined ? { maxPricePerUnit: o.maxPrice } : {}),
    };
    let model = o.model as string | undefined;
    if (o.runtime === "llm" && (!model || !/^[0-9a-f]{64}$/.test(model))) {
      const list = (await client.models()).data;
      const found = model ? list.find((m) => m.id === model) : list[0];
      if (!found) throw new Error(model ? `unknown model '${model}'` : "no model is offered by any provider");
      model = found.content_id;
    }
    const job =
      o.runtime === "wasm"
        ? await client.submitJob({
            runtime: "wasm",
            module: await moduleId(client, o.module ?? ""),
            input: { data: Buffer.from(o.input).toString("base64") },
            limits: { timeoutMs: 10_000, maxMemoryMb: 64, ...(o.maxFuel !== undefined ? { maxFuel: o.maxFuel } : {}) },
            constraints,
            idempotencyKey: o.idempotencyKey,
          })
        : await client.submitJob({
            runtime: "llm",
            model: model!,
            input: { prompt: o.prompt },
            params: { temperature: o.temperature },
            limits: { maxOutputTokens: o.maxTokens },
            constraints,
            idempotencyKey: o.idempotencyKey,
          });
    if (!o.wait) return print(o.json, job, () => jobLine(job));
    // the id first: a wait that is interrupted or runs out must not lose the job
    process.stderr.write(`job ${job.id} submitted; waiting for it (Ctrl-C stops waiting, not the job)\n`);
    const final = await untilInterrupted(client.waitForJob(job.id), () =>
      process.stderr.write(
        `\nstopped waiting; job ${job.id} goes on: 'tessera jobs ${job.id}' shows it, 'tessera cancel ${job.id}' cancels it\n`,
      ),
    );
    print(o.json, final, () => jobLine(final));
    if (final.status === "queued" || final.status === "running")
      process.stderr.write(
        `job ${job.id} is still ${final.status} after 10 minutes; 'tessera jobs ${job.id}' follows it\n`,
      );
    if (final.status !== "completed") process.exitCode = 1;
  });

  withClientFlags(
    program
      .command("jobs [id]")
      .description("list your jobs, or show one with its trail")
      .option("--status <s>", "queued|running|completed|failed|cancelled")
      .option("--limit <n>", "page size", intFlag("limit", 1, 500), JOBS_PAGE)
      .option("--cursor <cursor>", "the page after this one (the nextCursor a listing printed)"),
  ).action(async (id: string | undefined, o) => {
    const client = clientFrom(o);
    if (id) {
      const job = await client.getJob(id);
      print(o.json, job, () =>
        [
          jobLine(job),
          ...(job.trail ?? []).map(
            (t) =>
              `  attempt ${t.attempt} on ${t.providerId.slice(0, 16)}…: ${t.outcome}${t.reason ? ` (${t.reason})` : ""}`,
          ),
        ].join("\n"),
      );
      return;
    }
    const page = await client.listJobs({ limit: o.limit, status: o.status, cursor: o.cursor });
    print(o.json, page, () => {
      const lines = page.data.map(jobLine);
      // the same account, filter and page size (as this command was given them), or the next page
      // would list other jobs, or another account's, which refuses the cursor
      const same = [
        o.status ? ` --status ${o.status}` : "",
        o.limit !== JOBS_PAGE ? ` --limit ${o.limit}` : "",
        o.dir !== ".tessera" ? ` --dir ${o.dir}` : "",
        o.gateway ? ` --gateway ${o.gateway}` : "",
        o.apiKey ? ` --api-key ${o.apiKey}` : "",
      ].join("");
      if (page.hasMore && page.nextCursor) lines.push(`more: tessera jobs${same} --cursor ${page.nextCursor}`);
      return lines.join("\n") || "no jobs";
    });
  });

  withClientFlags(
    program
      .command("cancel <id>")
      .description(
        "cancel a queued or running job; its escrow is refunded, less the tokens a client was already streamed",
      ),
  ).action(async (id: string, o) => {
    const job = await clientFrom(o).cancelJob(id);
    // the API answers a finished job as it is (cancelling twice is no error); a job that ended
    // otherwise was not cancelled, which is a failure in both modes (printing the job under --json
    // read as if it had been)
    if (job.status !== "cancelled")
      throw Object.assign(
        new Error(
          `job ${id} had already ${job.status === "completed" ? "completed" : "failed"}; nothing was cancelled`,
        ),
        { code: "job_finished" },
      );
    print(o.json, job, () => jobLine(job));
  });

  withClientFlags(program.command("account").description("show balance, escrow and spend")).action(async (o) => {
    const a = await clientFrom(o).account();
    print(
      o.json,
      a,
      () =>
        `account ${a.id}: balance ${formatCredits(BigInt(a.balance))} credits, escrow ${formatCredits(BigInt(a.escrow))}, spent ${formatCredits(BigInt(a.spent))}`,
    );
  });
}
