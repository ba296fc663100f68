// A gateway process for diagnosis: the real startGateway() (what `tessera gateway` runs), with
// timestamps taken at each step of a job's path by wrapping the handle's engine, writer, store
// and HTTP server from the outside. No gateway code changes; the wrappers cost microseconds.
// Run by bench/lib/trace.ts through spawnScript; argv[2] is the JSON gateway config.
import crypto from "node:crypto";
import { syncBuiltinESMExports } from "node:module";
import { startGateway } from "@tessera/gateway";
import { type JobTrace, stamp } from "./trace-types.js";

// Experiment switch (TRACE_CACHE_KEYS=1): memoise crypto.createPublicKey, i.e. what caching a
// provider's KeyObject in @tessera/protocol's verifyBytes would save. The gateway code is
// unchanged; named imports of node:crypto follow syncBuiltinESMExports().
if (process.env.TRACE_CACHE_KEYS === "1") {
  const create = crypto.createPublicKey;
  const cache = new Map<string, crypto.KeyObject>();
  crypto.createPublicKey = ((key: Parameters<typeof create>[0]) => {
    const k = typeof key === "object" && key !== null && "key" in key && Buffer.isBuffer(key.key) ? key.key : undefined;
    if (!k) return create(key);
    const id = k.toString("hex");
    let v = cache.get(id);
    if (!v) {
      v = create(key);
      cache.set(id, v);
    }
    return v;
  }) as typeof create;
  syncBuiltinESMExports();
}

const config = JSON.parse(process.argv[2] ?? "{}");
const gw = await startGateway(config);
const traces = new Map<string, JobTrace>();
const commits: { start: number; end: number; ops: number }[] = [];
const rec = (jobId: string): JobTrace => {
  let t = traces.get(jobId);
  if (!t) {
    t = { jobId, chunks: 0, writes: [] };
    traces.set(jobId, t);
  }
  return t;
};

// HTTP: arrival of a completion request and the end of its response. Requests are sequential
// in the traced run, so the job submitted next belongs to the request that arrived last.
interface HttpTrace {
  in: number;
  out?: number;
  flushed?: number;
  jobId?: string;
}
let openRequest: HttpTrace | undefined;
const requests: HttpTrace[] = [];
// Node corks a response and writes it to the kernel on a later tick: stamp that write too.
type Writer = (...a: unknown[]) => unknown;
const wrapped = new WeakSet<object>();
const current = new WeakMap<object, HttpTrace>();
function watchSocket(socket: object): void {
  if (wrapped.has(socket)) return;
  wrapped.add(socket);
  const s = socket as { _writev?: Writer; _write?: Writer };
  for (const k of ["_writev", "_write"] as const) {
    const orig = s[k];
    if (!orig) continue;
    s[k] = function (this: unknown, ...a: unknown[]) {
      const r = current.get(socket);
      if (r?.out !== undefined && r.flushed === undefined) r.flushed = stamp();
      return orig.apply(this, a);
    };
  }
}
gw.app.server.prependListener("request", (req, res) => {
  if (req.method !== "POST" || !req.url?.startsWith("/v1/chat/completions")) return;
  const r: HttpTrace = { in: stamp() };
  openRequest = r;
  requests.push(r);
  watchSocket(req.socket);
  current.set(req.socket, r);
  // when the response is handed to the socket ('finish' comes a loop turn later, after other work)
  const end = res.end.bind(res) as (...a: unknown[]) => typeof res;
  res.end = ((...a: unknown[]) => {
    r.out ??= stamp();
    return end(...a);
  }) as typeof res.end;
});

const engine = gw.engine;
const submit = engine.submit.bind(engine);
engine.submit = async (req) => {
  const t0 = stamp();
  const job = await submit(req);
  const t = rec(job.id);
  t.submitCall = t0;
  t.submitDone = stamp();
  if (openRequest && !openRequest.jobId) openRequest.jobId = job.id;
  return job;
};

const write = engine.writer.write.bind(engine.writer);
engine.writer.write = (op) => {
  if (op.job) rec(op.job.id).writes.push({ status: op.job.status, enqueued: stamp() });
  return write(op);
};

const store = gw.store;
const commit = store.commit.bind(store);
store.commit = async (ops) => {
  const start = stamp();
  const out = await commit(ops);
  const end = stamp();
  commits.push({ start, end, ops: ops.length });
  for (const op of ops) {
    if (!op.job) continue;
    const w = rec(op.job.id).writes.find((x) => x.status === op.job?.status && x.commitStart === undefined);
    if (w) {
      w.commitStart = start;
      w.commitEnd = end;
      w.batch = ops.length;
    }
  }
  return out;
};

const connect = engine.connect.bind(engine);
engine.connect = (session) => {
  const send = session.send;
  session.send = (msg) => {
    if (msg.type === "lease") rec(msg.jobId).leaseSent = stamp();
    if (msg.type === "ack") rec(msg.jobId).ackSent = stamp();
    send(msg);
  };
  connect(session);
};

const chunk = engine.chunk.bind(engine);
engine.chunk = (session, msg) => {
  const t = rec(msg.jobId);
  t.chunks++;
  t.firstChunkIn ??= stamp();
  chunk(session, msg);
};

const result = engine.result.bind(engine);
engine.result = async (session, msg) => {
  const t = rec(msg.jobId);
  t.resultIn = stamp();
  const r = await result(session, msg);
  t.resultDone = stamp();
  return r;
};

const emit = engine.events.emit.bind(engine.events);
engine.events.emit = (jobId, e) => {
  if (e.type === "done") rec(jobId).settled = stamp();
  emit(jobId, e);
};

process.on("message", (m: { type: string }) => {
  if (m.type === "dump") {
    for (const r of requests) {
      if (!r.jobId) continue;
      const t = rec(r.jobId);
      t.httpIn = r.in;
      if (r.out !== undefined) t.httpOut = r.out;
      if (r.flushed !== undefined) t.httpFlushed = r.flushed;
    }
    process.send?.({ type: "traces", traces: [...traces.values()], commits });
  }
  if (m.type === "reset") {
    traces.clear();
    requests.length = 0;
    commits.length = 0;
  }
  if (m.type === "stop") void gw.close().then(() => process.exit(0));
});
process.on("disconnect", () => void gw.close().then(() => process.exit(0)));
process.send?.({ type: "ready", url: gw.url, wsUrl: gw.wsUrl });
