// Live updates for dashboards over server-sent events: each overview sample as it is taken,
// and the jobs that changed, coalesced every `flushMs` so a busy gateway sends one message
// per beat, not one per transition.
import type { JobRecord } from "@tessera/core";
import type { FastifyInstance } from "fastify";
import type { Engine } from "../engine/engine.js";
import type { Sample, Sampler } from "./sampler.js";
import { liveJobView } from "./views.js";

type Client = (event: string, data: unknown) => void;

export class LiveHub {
  private readonly clients = new Set<Client>();
  private pending = new Map<string, JobRecord>();
  private readonly timer: NodeJS.Timeout;
  private readonly offJob: () => void;
  private readonly offSample: () => void;

  constructor(engine: Engine, sampler: Sampler, flushMs = 250) {
    const onJob = (job: JobRecord) => {
      if (this.clients.size > 0) this.pending.set(job.id, job);
    };
    engine.feed.on("job", onJob);
    this.offJob = () => engine.feed.off("job", onJob);
    this.offSample = sampler.onSample((s: Sample) => this.broadcast("sample", s));
    this.timer = setInterval(() => this.flush(), flushMs);
    this.timer.unref();
  }

  private flush(): void {
    if (this.pending.size === 0) return;
    const jobs = [...this.pending.values()].map(liveJobView);
    this.pending = new Map();
    this.broadcast("jobs", { at: Date.now(), jobs });
  }

  private broadcast(event: string, data: unknown): void {
    for (const c of this.clients) c(event, data);
  }

  get size(): number {
    return this.clients.size;
  }

  routes(app: FastifyInstance): void {
    app.get("/v1/explorer/stream", (req, reply) => {
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        "content-type": "text/event-stream",
        "cache-control": "no-cache, no-transform",
        connection: "keep-alive",
        "x-accel-buffering": "no",
      });
      res.write(`retry: 2000\n: connected\n\n`);
      const client: Client = (event, data) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      const keepAlive = setInterval(() => res.write(": keep-alive\n\n"), 15_000);
      this.clients.add(client);
      req.raw.on("close", () => {
        clearInterval(keepAlive);
        this.clients.delete(client);
      });
    });
  }

  close(): void {
    clearInterval(this.timer);
    this.offJob();
    this.offSample();
    this.clients.clear();
  }
}
