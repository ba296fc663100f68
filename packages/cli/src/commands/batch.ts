// `tessera batch submit|status|download|cancel|list`: batches of OpenAI or native job lines,
// with a live progress bar (done/failed/total, rate, ETA, spend) while waiting.
import { createWriteStream, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import { BatchClient, type BatchProgress, type BatchView } from "@tessera/sdk";
import { SingleBar } from "cli-progress";
import { type Command, Option } from "commander";
import { resolveCredentials, withClientFlags } from "../lib/credentials.js";
import { intFlag } from "../lib/flags.js";
import { formatCredits } from "../lib/format.js";
import { untilInterrupted } from "../lib/interrupt.js";

function batches(o: { gateway?: string; apiKey?: string; dir?: string }): BatchClient {
  const c = resolveCredentials(o);
  return new BatchClient({ baseUrl: c.gateway, apiKey: c.apiKey });
}

function summary(b: BatchView): string {
  const c = b.request_counts;
  return `${b.id}  ${b.status}  ${c.completed} done, ${c.failed} failed of ${c.total}  spent ${formatCredits(BigInt(b.tessera.spent))} credits`;
}

/** where the error file goes beside the output file `out` */
function errorsPathFor(out: string): string {
  return out.replace(/(\.jsonl)?$/, ".errors.jsonl");
}

async function download(client: BatchClient, b: BatchView, out: string): Promise<string[]> {
  const written: string[] = [];
  for (const [id, path] of [
    [b.output_file_id, out],
    [b.error_file_id, errorsPathFor(out)],
  ] as const) {
    if (!id) continue;
    await pipeline(await client.content(id), createWriteStream(path));
    written.push(path);
  }
  return written;
}

function follow(client: BatchClient, id: string, json: boolean): Promise<BatchView> {
  let bar: SingleBar | undefined;
  const following = new Promise<BatchView>((resolve, reject) => {
    bar = json
      ? undefined
      : new SingleBar({
          format: " {bar} {value}/{total} lines | {failed} failed | {rate}/s | ETA {eta_s}s | spent {spent} credits",
          hideCursor: true,
        });
    let started = false;
    const w = client.watch(id);
    w.on("progress", (p: BatchProgress) => {
      const payload = {
        failed: p.failed,
        rate: p.rate.toFixed(1),
        eta_s: p.etaSeconds === null ? "?" : Math.ceil(p.etaSeconds),
        spent: formatCredits(p.spent),
      };
      if (!bar) return;
      if (!started && p.total > 0) {
        bar.start(p.total, p.done + p.failed, payload);
        started = true;
      } else if (started) bar.update(p.done + p.failed, payload);
    });
    w.on("done", (b: BatchView) => {
      bar?.stop();
      resolve(b);
    });
    w.on("error", (e) => {
      bar?.stop();
      reject(e);
    });
  });
  return untilInterrupted(following, () => {
    bar?.stop();
    process.stderr.write(
      `\nstopped following; batch ${id} goes on: 'tessera batch status ${id}' shows it, 'tessera batch download ${id}' fetches its files once it ends, 'tessera batch cancel ${id}' cancels it\n`,
    );
  });
}

/** `tessera batch list` page size unless --limit says otherwise (the API's default) */
const BATCHES_PAGE = 20;

export function registerBatchCommands(program: Command): void {
  const batch = program.command("batch").description("batches of requests: submit a JSONL file, follow, download");
  withClientFlags(
    batch
      .command("submit <file>")
      .description("upload a JSONL file of requests and start a batch over it")
      .addOption(
        new Option("--endpoint <path>", "what each line calls")
          .choices(["/v1/chat/completions", "/v1/completions", "/v1/jobs"])
          .default("/v1/chat/completions"),
      )
      .option("--window <w>", "completion window, e.g. 24h or 30m (s, m or h)", "24h")
      .option(
        "--wait",
        "follow with a progress bar and download the output at the end; exit code 1 unless the batch completed with at least one line done",
      )
      .option("--out <file>", "where --wait writes the output (errors go beside it)", "batch-output.jsonl"),
  ).action(async (file: string, o) => {
    // everything that can be checked here is, before the upload is paid for in time and storage
    if (!/^\d{1,6}[smh]$/.test(o.window)) throw new Error(`--window must be like 24h or 30m, got '${o.window}'`);
    const stat = statSync(file, { throwIfNoEntry: false });
    if (!stat) throw new Error(`${file} does not exist`);
    if (!stat.isFile()) throw new Error(`${file} is not a file`);
    const outDir = dirname(resolve(o.out));
    if (o.wait && !statSync(outDir, { throwIfNoEntry: false })?.isDirectory())
      throw new Error(`--out: the directory ${outDir} does not exist`);
    // found only once the batch had run (and been paid for), as EISDIR, with nothing written
    if (o.wait)
      for (const path of [o.out, errorsPathFor(o.out)])
        if (statSync(path, { throwIfNoEntry: false })?.isDirectory())
          throw new Error(`--out: ${path} is a directory; name the file to write`);
    const client = batches(o);
    const uploaded = await client.upload(file);
    let b = await client.create(uploaded.id, o.endpoint, o.window);
    // under --json on stderr, so that a --wait interrupted or failing still leaves the id behind
    (o.json ? process.stderr : process.stdout).write(
      `batch ${b.id} started over ${uploaded.filename} (${uploaded.bytes} bytes)\n`,
    );
    if (!o.wait) {
      if (o.json) process.stdout.write(`${JSON.stringify(b, null, 2)}\n`);
      return;
    }
    b = await follow(client, b.id, o.json === true);
    const files = await download(client, b, o.out);
    process.stdout.write(
      o.json
        ? `${JSON.stringify({ batch: b, files }, null, 2)}\n`
        : `${summary(b)}\nwrote ${files.join(", ") || "nothing"}\n`,
    );
    // a completed batch may hold failed lines (they are in the error file); one where none succeeded failed
    if (b.status !== "completed" || b.request_counts.completed === 0) process.exitCode = 1;
  });
  withClientFlags(batch.command("status <id>").description("show a batch and its request counts")).action(
    async (id: string, o) => {
      const b = await batches(o).get(id);
      process.stdout.write(o.json ? `${JSON.stringify(b, null, 2)}\n` : `${summary(b)}\n`);
    },
  );
  withClientFlags(
    batch
      .command("download <id>")
      .description("write a finished batch's output (and errors) to files")
      .option("--out <file>", "output file", "batch-output.jsonl"),
  ).action(async (id: string, o) => {
    const client = batches(o);
    const b = await client.get(id);
    // the files are published when the batch ends
    if (!["completed", "cancelled", "expired", "failed"].includes(b.status))
      throw new Error(`batch ${id} is ${b.status}; its files are written when it ends ('tessera batch status ${id}')`);
    const files = await download(client, b, o.out);
    process.stdout.write(
      o.json ? `${JSON.stringify({ files })}\n` : `wrote ${files.join(", ") || "nothing (the batch had no lines)"}\n`,
    );
  });
  withClientFlags(batch.command("cancel <id>").description("cancel a batch; unfinished lines are refunded")).action(
    async (id: string, o) => {
      const b = await batches(o).cancel(id);
      process.stdout.write(o.json ? `${JSON.stringify(b, null, 2)}\n` : `${summary(b)}\n`);
    },
  );
  withClientFlags(
    batch
      .command("list")
      .description("your batches, newest first")
      .option("--limit <n>", "page size", intFlag("limit", 1, 100), BATCHES_PAGE)
      .option("--after <id>", "the page after this batch (the last id a listing printed)"),
  ).action(async (o) => {
    const page = await batches(o).listPage({ limit: o.limit, after: o.after });
    const lines = page.data.map(summary);
    const limit = o.limit !== BATCHES_PAGE ? ` --limit ${o.limit}` : "";
    if (page.has_more && page.last_id) lines.push(`more: tessera batch list${limit} --after ${page.last_id}`);
    process.stdout.write(o.json ? `${JSON.stringify(page, null, 2)}\n` : `${lines.join("\n") || "no batches"}\n`);
  });
}
