// The expiry sweep (a batch's output_expires_after) and a batch still unfinished: a gateway that
// stopped between publishing a batch's files and saving it finished resumes it from those files,
// so the sweep at start-up (which runs before the resume) must not remove them, however late.
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BatchRecord, openStore, type Store } from "@tessera/store";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RouteContext } from "../routes/context.js";
import { BatchManager } from "./manager.js";

let store: Store;
let dir: string;
beforeEach(async () => {
  store = await openStore(":memory:");
  dir = mkdtempSync(join(tmpdir(), "tessera-expiry-"));
});
afterEach(async () => {
  await store.close();
});

const batch = (id: string, status: BatchRecord["status"]): BatchRecord => ({
  id,
  consumerId: "c1",
  endpoint: "/v1/chat/completions",
  inputFileId: "file-in",
  completionWindow: "24h",
  status,
  outputFileId: `file-${id}-output`,
  errorFileId: `file-${id}-errors`,
  createdAt: 0,
  expiresAt: 86_400_000,
  inProgressAt: 0,
  finalizingAt: status === "finalizing" ? 1 : null,
  completedAt: status === "completed" ? 2 : null,
  failedAt: null,
  expiredAt: null,
  cancellingAt: null,
  cancelledAt: null,
  total: 1,
  completed: 1,
  failed: 0,
  spent: 10n,
  metadata: null,
  outputExpiresAfterSeconds: 3600,
  errors: null,
});

const outputOf = async (b: BatchRecord) => {
  const path = join(dir, `${b.id}.output.jsonl`);
  writeFileSync(path, '{"custom_id":"a"}\n');
  await store.batches.putBatch(b);
  await store.batches.putFile({
    id: b.outputFileId,
    consumerId: "c1",
    purpose: "batch_output",
    filename: `${b.id}_output.jsonl`,
    bytes: 18,
    lines: 1,
    path,
    createdAt: 10,
    expiresAt: 10 + 3_600_000,
  });
  return path;
};

describe("the expiry sweep", () => {
  it("removes an expired output file of a finished batch, and keeps one of a batch still to be resumed", async () => {
    const manager = new BatchManager({
      config: { filesDir: dir, batchInFlightPerConsumer: 4 },
      store,
      log: pino({ level: "silent" }),
    } as unknown as RouteContext);
    const done = await outputOf(batch("done", "completed"));
    // stopped after its files were published, before it was saved completed: a restart resumes it
    // from them (the lines they hold are not run and billed again)
    const finalizing = await outputOf(batch("finalizing", "finalizing"));
    const removed = await manager.removeExpired(10 + 3_600_000 + 1);
    expect(removed).toBe(1);
    expect(await store.batches.getFile("file-done-output")).toBeUndefined();
    expect(existsSync(done)).toBe(false);
    expect(await store.batches.getFile("file-finalizing-output")).toBeDefined();
    expect(existsSync(finalizing)).toBe(true);
  });
});
