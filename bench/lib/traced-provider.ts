// A provider process for diagnosis: the real startProvider() (what `tessera provider` runs) with
// its default runtimes, each execute() wrapped to stamp when the job starts and ends running.
// Run by bench/gateway-overhead.ts through spawnScript; argv[2] is the JSON provider config.

import type { JobSpec } from "@tessera/protocol";
import { type ProviderConfigInput, startProvider } from "@tessera/provider";
import type { Runtime } from "@tessera/runtimes";
import { stamp } from "./trace-types.js";

const config = JSON.parse(process.argv[2] ?? "{}") as ProviderConfigInput;
const execs = new Map<string, { execStart: number; execEnd?: number }>();
// diagnosis switch: run jobs without streaming chunk frames to the gateway
const noChunks = process.env.TRACE_NO_CHUNKS === "1";

function timed<S extends JobSpec>(rt: Runtime<S>): void {
  const execute = rt.execute.bind(rt);
  rt.execute = async (spec, ctx) => {
    const t = { execStart: stamp() } as { execStart: number; execEnd?: number };
    execs.set(ctx.jobId, t);
    try {
      return await execute(spec, noChunks ? { ...ctx, onChunk: undefined } : ctx);
    } finally {
      t.execEnd = stamp();
    }
  };
}

const handle = await startProvider(config, {
  runtimes: async (ctx) => {
    const rts = await ctx.createDefault();
    if (rts.llm) timed(rts.llm);
    if (rts.wasm) timed(rts.wasm);
    return rts;
  },
});

process.on("message", (m: { type: string }) => {
  if (m.type === "dump") process.send?.({ type: "execs", execs: [...execs].map(([jobId, t]) => ({ jobId, ...t })) });
  if (m.type === "reset") execs.clear();
  if (m.type === "stop") void handle.stop().then(() => process.exit(0));
});
process.on("disconnect", () => void handle.stop().then(() => process.exit(0)));
process.send?.({ type: "ready", nodeId: handle.nodeId });
