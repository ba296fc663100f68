// Output and error lines of a batch for finished jobs: what each says it cost, which the batch's
// `spent` adds up, and reads back after a restart.
import { complete, failPermanently } from "@tessera/core";
import type { JobSpec } from "@tessera/protocol";
import { describe, expect, it } from "vitest";
import { testJob } from "../verification/test-nodes.js";
import { jobLine, readWritten } from "./lines.js";

const spec: JobSpec = {
  runtime: "wasm",
  module: "ab".repeat(32),
  input: { data: "" },
  limits: { timeoutMs: 1_000, maxMemoryMb: 16, maxFuel: 10_000_000 },
};
// a job as it stands leased to p1 at 70 nc/SU, escrowed for 1 SU
const running = testJob("job_1", "p1", {
  spec,
  jobClass: "batch",
  status: "running",
  pricePerUnit: 70,
  escrow: 70n,
  cost: null,
  units: null,
  output: null,
  outputHash: null,
  signature: null,
});
const parsed = { customId: "row-1", spec, constraints: {}, name: spec.module, requestHash: "00".repeat(32) };
const settled = (output: { data: string; outOfFuel?: true }) =>
  complete(running, {
    output,
    outputHash: "cd".repeat(32),
    units: { inputTokens: 0, outputTokens: 0, standardUnits: 1 },
    signature: "sig",
    feeBps: 500,
    now: 2,
  }).job;

describe("batch lines of finished jobs", () => {
  it("writes a completed job to the output file with its cost", () => {
    const line = jobLine("batch_1", "/v1/jobs", 0, parsed, settled({ data: "AQID" }));
    expect(line).toMatchObject({ ok: true, cost: 70n });
    expect(readWritten(line.text)).toEqual({ line: 0, cost: 70n });
  });

  it("writes a job that ran out of fuel to the error file, with what it was billed", () => {
    const line = jobLine("batch_1", "/v1/jobs", 3, parsed, settled({ data: "", outOfFuel: true }));
    expect(line).toMatchObject({ ok: false, cost: 70n });
    const body = JSON.parse(line.text).response.body;
    expect(body.error.message).toMatch(/ran out of fuel \(limit 10000000;/);
    expect(body.tessera).toEqual({ cost: "70" });
    expect(readWritten(line.text)).toEqual({ line: 3, cost: 70n });
  });

  it("writes a refunded failure to the error file at no cost", () => {
    const line = jobLine("batch_1", "/v1/jobs", 5, parsed, failPermanently(running, "trap", 2).job);
    expect(line).toMatchObject({ ok: false, cost: 0n });
    expect(JSON.parse(line.text).response.body.tessera).toBeUndefined();
    expect(readWritten(line.text)).toEqual({ line: 5, cost: 0n });
  });
});
