// A stand-in for an OpenAI endpoint that answers every chat completion at once with a canned
// body of the gateway's size: what the openai client and loopback HTTP cost with no gateway
// behind them. Run as its own process (spawnScript); sends its port over IPC.
import { createServer } from "node:http";

const body = JSON.stringify({
  id: "chatcmpl-stub",
  object: "chat.completion",
  created: 0,
  model: "tessera-tiny",
  choices: [
    {
      index: 0,
      message: { role: "assistant", content: "x".repeat(80), refusal: null },
      logprobs: null,
      finish_reason: "length",
    },
  ],
  usage: { prompt_tokens: 27, completion_tokens: 16, total_tokens: 43 },
  system_fingerprint: "fp_000000000000",
  tessera: { job_id: "job_0", provider: "p".repeat(64), cost: "1", standard_units: 1, output_hash: "0".repeat(64) },
});

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    JSON.parse(Buffer.concat(chunks).toString() || "{}"); // parse like a server would
    res.writeHead(200, {
      "content-type": "application/json; charset=utf-8",
      "content-length": Buffer.byteLength(body),
    });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  const a = server.address();
  process.send?.({ port: typeof a === "object" && a ? a.port : 0 });
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
process.on("disconnect", () => process.exit(0));
