// Batch files on the gateway's disk: multipart uploads streamed straight to a file (never held
// whole in memory), input read back line by line, and output files appended to with their
// completed lines recoverable after a crash.
import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import { open, rename, rm, stat, truncate } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import { join } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Busboy } from "@fastify/busboy";
import { InvalidRequest, PayloadTooLarge, TesseraError } from "@tessera/protocol";

export function newFileId(): string {
  return `file-${randomBytes(12).toString("hex")}`;
}

export interface Upload {
  purpose: string;
  filename: string;
  bytes: number;
  lines: number;
  path: string;
}

/** ASCII whitespace: what `String.prototype.trim` drops from a line made of single bytes */
const BLANK = new Set([9, 10, 11, 12, 13, 32]);

/**
 * Counts bytes and lines as they pass, and stops the upload past `limit` bytes. It also counts
 * the lines holding an ASCII character other than whitespace (a request, not a blank line), so that a file of
 * blank lines is refused as empty, as the runner would find no request in it.
 */
class LineCounter extends Transform {
  bytes = 0;
  lines = 0;
  /** lines with an ASCII byte other than whitespace: non-blank for sure */
  solid = 0;
  private last = 10;
  private lineSolid = false;
  constructor(private readonly limit: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: (e?: Error | null, data?: Buffer) => void): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) {
      done(new PayloadTooLarge(this.limit));
      return;
    }
    let i = 0;
    while (i < chunk.length) {
      // before the line's first visible byte: look at each byte; after it, jump to the newline
      if (!this.lineSolid) {
        const b = chunk[i] as number;
        if (b === 10) this.endLine();
        // a byte of a multi-byte character may belong to Unicode whitespace: not proof
        else if (b < 0x80 && !BLANK.has(b)) this.lineSolid = true;
        i++;
        continue;
      }
      const nl = chunk.indexOf(10, i);
      if (nl === -1) break;
      this.endLine();
      i = nl + 1;
    }
    if (chunk.length > 0) this.last = chunk[chunk.length - 1] ?? 10;
    done(null, chunk);
  }
  private endLine(): void {
    this.lines++;
    if (this.lineSolid) this.solid++;
    this.lineSolid = false;
  }
  get total(): number {
    return this.lines + (this.last === 10 ? 0 : 1);
  }
  get requests(): number {
    return this.solid + (this.last !== 10 && this.lineSolid ? 1 : 0);
  }
}

/**
 * Streams a `multipart/form-data` upload (fields `purpose` and `file`) to `dir/<id>.jsonl`.
 * Past `limit` bytes (or on a disk error) it throws at once, with the partial file deleted and
 * the rest of the body left unread: the caller answers without waiting for it.
 */
export async function receiveUpload(req: IncomingMessage, dir: string, id: string, limit: number): Promise<Upload> {
  const type = req.headers["content-type"] ?? "";
  if (!type.startsWith("multipart/form-data")) throw new InvalidRequest("Upload files as multipart/form-data.");
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${id}.jsonl`);
  const partial = `${path}.partial`;
  const fields = new Map<string, string>();
  let file: Promise<{ filename: string; bytes: number; lines: number; requests: number }> | undefined;
  let writer: WriteStream | undefined;
  let bb: ReturnType<typeof Busboy>;
  try {
    bb = Busboy({ headers: req.headers as { "content-type": string }, limits: { files: 1, fields: 10 } });
  } catch (e) {
    throw malformed(e);
  }
  // A failed file write ends the upload at once: pipeline() has destroyed busboy's file stream,
  // so busboy would never drain the body and waiting for it to finish would never end.
  let failFile!: (e: unknown) => void;
  const fileFailed = new Promise<never>((_, reject) => {
    failFile = reject;
  });
  fileFailed.catch(() => {});
  bb.on("field", (name, value) => fields.set(name, value));
  bb.on("file", (name, stream, filename) => {
    if (name !== "file" || file) {
      stream.resume();
      return;
    }
    const counter = new LineCounter(limit);
    writer = createWriteStream(partial);
    file = pipeline(stream, counter, writer).then(() => ({
      filename: filename || "upload.jsonl",
      bytes: counter.bytes,
      lines: counter.total,
      requests: counter.requests,
    }));
    file.catch(failFile);
  });
  // not pipeline(req, bb): its failure would destroy the request, and with it the socket the answer goes out on
  const parsed = new Promise<void>((resolve, reject) => {
    bb.on("finish", resolve);
    bb.on("error", reject);
    req.on("error", reject);
  });
  req.pipe(bb);
  try {
    await Promise.race([parsed, fileFailed]);
    if (!file) throw new InvalidRequest("The upload has no 'file' part.", "file");
    const { requests, ...got } = await file;
    const purpose = fields.get("purpose");
    if (purpose !== "batch") throw new InvalidRequest("Only purpose 'batch' is supported.", "purpose");
    // a file of blank lines holds no request: it is as empty as a file of no bytes
    if (requests === 0 && !(got.lines > 0 && (await hasRequest(partial))))
      throw new InvalidRequest("The file is empty.", "file");
    await rename(partial, path);
    return { purpose, ...got, path };
  } catch (e) {
    req.unpipe(bb);
    // what is still arriving is read and dropped, so the client sees the answer rather than a reset
    req.resume();
    // the write stream may still be opening the file: removed before it closes, it would come back
    if (writer && !writer.closed) await new Promise<void>((r) => writer?.once("close", () => r()));
    await rm(partial, { force: true });
    // the disk's errors stay server errors; the rest is a body busboy could not parse
    throw e instanceof TesseraError || (e as NodeJS.ErrnoException).syscall ? e : malformed(e);
  }
}

/** past this a line is not read to see whether it is blank: it is a request, too long to run */
const MAX_SCANNED_LINE = 8 * 1024 * 1024;

/**
 * Whether a line of the file is not blank as the runner sees it (`trim()`), for the rare file
 * whose lines hold only whitespace and non-ASCII bytes (which may be Unicode whitespace).
 */

async function hasRequest(path: string): Promise<boolean> {
  // a line too long to read is not blank for all this can tell: the batch reports it
  for await (const [, text] of numberedLines(path, MAX_SCANNED_LINE)) if (text === null || text.trim()) return true;
  return false;
}

function malformed(e: unknown): InvalidRequest {
  return new InvalidRequest(
    `The upload is not valid multipart/form-data: ${e instanceof Error ? e.message : String(e)}.`,
  );
}

/**
 * The file's lines with their 0-based numbers, read as a stream (blank lines included). Lines
 * are cut as bytes and decoded whole, so a character split between two reads stays intact, and a
 * line longer than a read is joined once, not re-scanned per read. A UTF-8 byte order mark
 * opening the file is not part of its first line (editors on Windows write one).
 *
 * A line of more than `maxLineBytes` bytes (its CR and LF not counted) is not read into memory:
 * it comes as `null`, and its bytes are skipped as they pass. Without the cap one line could be the
 * whole upload (512 MiB), held and decoded at once, past what a string can hold.
 */
export async function* numberedLines(
  path: string,
  maxLineBytes = Number.POSITIVE_INFINITY,
): AsyncGenerator<[number, string | null]> {
  const input = createReadStream(path, { highWaterMark: 256 * 1024 });
  let pieces: Buffer[] = [];
  /** bytes held in `pieces`, or -1 once the line is past the cap and being skipped */
  let held = 0;
  let n = 0;
  const line = (tail: Buffer): string | null => {
    const skipped = held < 0;
    // at most the cap and one read: `pieces` never holds more than the cap and 4 bytes
    const bytes = skipped ? undefined : pieces.length ? Buffer.concat([...pieces, tail]) : tail;
    pieces = [];
    held = 0;
    if (!bytes) return null;
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === 13) end--;
    const from = n === 0 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
    if (end - from > maxLineBytes) return null;
    return bytes.toString("utf8", from, end);
  };
  const keep = (rest: Buffer) => {
    if (held < 0) return;
    held += rest.length;
    // a CR and a byte order mark may be dropped later: 4 bytes of slack before giving up on the line
    if (held > maxLineBytes + 4) {
      pieces = [];
      held = -1;
    } else pieces.push(rest);
  };
  for await (const chunk of input as AsyncIterable<Buffer>) {
    let start = 0;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, start)) {
      yield [n, line(chunk.subarray(start, i))];
      n++;
      start = i + 1;
    }
    if (start < chunk.length) keep(chunk.subarray(start));
  }
  if (held !== 0) yield [n, line(Buffer.alloc(0))];
}

/**
 * Reads the complete (newline-terminated) lines an append-only output file holds and cuts off
 * a torn last line left by a crash, so appending can go on where the file is consistent.
 */
export async function recoverAppendFile(path: string, onLine: (text: string) => void): Promise<number> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    return 0;
  }
  let good = 0;
  let pos = 0;
  let rest = Buffer.alloc(0);
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    let buf = rest.length ? Buffer.concat([rest, chunk]) : chunk;
    let start = 0;
    for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, start)) {
      onLine(buf.subarray(start, i).toString("utf8"));
      start = i + 1;
      good = pos + start;
    }
    pos += start;
    buf = buf.subarray(start);
    rest = Buffer.from(buf);
  }
  if (good < size) await truncate(path, good);
  return good;
}

/** Flushes a file's data to disk (the output must survive the machine, not only the process). */
export async function syncFile(path: string): Promise<void> {
  const h = await open(path, "r+");
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}
