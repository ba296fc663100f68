import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LineSink } from "./line-sink.js";

const dir = mkdtempSync(join(tmpdir(), "tessera-sink-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("LineSink", () => {
  it("appends the held lines and closes the file on end", async () => {
    const path = join(dir, "out.jsonl");
    const sink = new LineSink(path);
    sink.push('{"a":1}');
    sink.flush();
    sink.push('{"b":2}');
    await sink.end();
    expect(readFileSync(path, "utf8")).toBe('{"a":1}\n{"b":2}\n');
  });

  // /dev/full answers every write with ENOSPC, as a full disk does
  it.runIf(process.platform === "linux")(
    "a full disk makes end() reject instead of throwing an unhandled error that ends the process",
    async () => {
      const sink = new LineSink("/dev/full");
      sink.push("x".repeat(70_000)); // past the high-water mark: written at once
      sink.push("y");
      await expect(sink.end()).rejects.toMatchObject({ code: "ENOSPC" });
    },
  );
});
