// Prometheus metrics (prom-client), one registry per gateway so tests can run several.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "tessera_gateway_" });
  const m = {
    registry,
    jobsSubmitted: new Counter({
      name: "tessera_jobs_submitted_total",
      help: "Jobs accepted, by runtime",
      labelNames: ["runtime"] as const,
      registers: [registry],
    }),
    jobsFinished: new Counter({
      name: "tessera_jobs_finished_total",
      help: "Jobs that reached a final state, by runtime and state",
      labelNames: ["runtime", "status"] as const,
      registers: [registry],
    }),
    jobLatency: new Histogram({
      name: "tessera_job_latency_seconds",
      help: "Time from submit to settled result",
      labelNames: ["runtime"] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    httpLatency: new Histogram({
      name: "tessera_http_request_duration_seconds",
      help: "HTTP request durations by route",
      labelNames: ["route", "method", "status"] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5],
      registers: [registry],
    }),
    tokens: new Counter({ name: "tessera_output_tokens_total", help: "LLM tokens generated", registers: [registry] }),
    providersOnline: new Gauge({
      name: "tessera_providers_online",
      help: "Connected providers",
      registers: [registry],
    }),
    queueDepth: new Gauge({ name: "tessera_queue_depth", help: "Jobs waiting for a provider", registers: [registry] }),
    running: new Gauge({ name: "tessera_jobs_running", help: "Jobs leased to a provider", registers: [registry] }),
    stalls: new Counter({
      name: "tessera_gateway_stalls_total",
      help: "Times the gateway process stood still past a heartbeat period (its leases then got the restart grace)",
      registers: [registry],
    }),
  };
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;
