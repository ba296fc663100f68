import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { numberedLines } from "./files.js";

const dir = mkdtempSync(join(tmpdir(), "tessera-lines-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function linesOf(content: string | Buffer, maxLineBytes?: number): Promise<[number, string | null][]> {
  const path = join(dir, `f${Math.random()}.jsonl`);
  writeFileSync(path, content);
  const out: [number, string | null][] = [];
  for await (const l of numberedLines(path, maxLineBytes)) out.push(l);
  return out;
}

// the reader takes 256 KiB at a time
const READ = 256 * 1024;

describe("numberedLines", () => {
  it("numbers every line, blank ones too, drops CR of CRLF and keeps a last line without newline", async () => {
    expect(await linesOf('{"a":1}\r\n\n{"b":2}\nlast')).toEqual([
      [0, '{"a":1}'],
      [1, ""],
      [2, '{"b":2}'],
      [3, "last"],
    ]);
    expect(await linesOf("one\n")).toEqual([[0, "one"]]);
    expect(await linesOf("")).toEqual([]);
  });

  it("keeps a multi-byte character that a read boundary splits", async () => {
    // "é" is 2 bytes: put its first byte last in the first read
    const head = "x".repeat(READ - 1);
    const second = `{"custom_id":"é日本語é"}`;
    const lines = await linesOf(`${head}é\n${second}\n`);
    expect(lines).toEqual([
      [0, `${head}é`],
      [1, second],
    ]);
  });

  it("reads a line spanning many reads whole", async () => {
    const long = "ü".repeat(3 * READ + 7);
    const lines = await linesOf(`a\n${long}\nb`);
    expect(lines.map(([n, t]) => [n, t?.length])).toEqual([
      [0, 1],
      [1, long.length],
      [2, 1],
    ]);
    expect(lines[1]?.[1]).toBe(long);
  });

  it("drops a UTF-8 byte order mark opening the file, and only there", async () => {
    const bom = "\uFEFF";
    expect(await linesOf(`${bom}{"a":1}\r\n${bom}{"b":2}\n`)).toEqual([
      [0, '{"a":1}'],
      [1, `${bom}{"b":2}`],
    ]);
    expect(await linesOf(`${bom}{"a":1}`)).toEqual([[0, '{"a":1}']]);
    expect(await linesOf(bom)).toEqual([[0, ""]]);
  });

  it("gives a line past the cap as null without holding it, and reads the lines around it", async () => {
    const long = "y".repeat(5 * READ + 3);
    expect(await linesOf(`a\n${long}\nb\n${long}`, 100)).toEqual([
      [0, "a"],
      [1, null],
      [2, "b"],
      [3, null],
    ]);
    // the cap counts the line's own bytes: a CR or a byte order mark does not tip it over
    const at = "z".repeat(100);
    expect(await linesOf(`\uFEFF${at}\r\n${at}\r\n${at}z\n${at}`, 100)).toEqual([
      [0, at],
      [1, at],
      [2, null],
      [3, at],
    ]);
    // a line exactly at a read's end past the cap
    expect(await linesOf(`${"q".repeat(READ)}\nok`, 10)).toEqual([
      [0, null],
      [1, "ok"],
    ]);
  });
});
