// Batch input and output files as the crash tests write and read them through the openai client.
import type OpenAI from "openai";

/** A line of a batch's output or error file. */
export interface BatchLine {
  id: string;
  custom_id: string | null;
  response: { status_code: number; body: { tessera?: { cost: string; job_id: string } } } | null;
  error: { code: string } | null;
}

/** `n` completion lines on the tiny model, line i asking for `maxTokens(i)` tokens. */
export function completionLines(n: number, maxTokens: (i: number) => number): Buffer {
  const lines = Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      custom_id: `r${i}`,
      method: "POST",
      url: "/v1/completions",
      body: { model: "tessera-tiny", prompt: `n${i}`, max_tokens: maxTokens(i), temperature: 0 },
    }),
  );
  return Buffer.from(`${lines.join("\n")}\n`);
}

/** The lines of an output or error file (none when the batch has no such file). */
export async function fileLines(openai: OpenAI, id: string | null | undefined): Promise<BatchLine[]> {
  if (!id) return [];
  const text = await (await openai.files.content(id)).text();
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as BatchLine);
}
