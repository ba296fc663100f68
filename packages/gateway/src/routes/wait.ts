// Waiting for a job to finish, for synchronous APIs: resolves with the final record, or with
// the current one when the wait runs out or the client goes away first.
import type { ServerResponse } from "node:http";
import type { JobRecord } from "@tessera/core";
import type { RouteContext } from "./context.js";

/**
 * `client` is the response the answer goes to: when its connection closes first, the wait ends at
 * once, so abandoned long-polls do not keep a listener and a timer each for the rest of the wait.
 */
export function waitForJob(
  ctx: RouteContext,
  jobId: string,
  timeoutMs: number,
  client: ServerResponse,
): Promise<JobRecord> {
  return new Promise((resolve, reject) => {
    let ended = false;
    const end = (job: JobRecord | undefined) => {
      if (ended) return;
      ended = true;
      off();
      clearTimeout(timer);
      client.off("close", current);
      if (job) return resolve(job);
      const active = ctx.engine.activeJob(jobId);
      if (active) resolve(active);
      else ctx.store.getJob(jobId).then((j) => (j ? resolve(j) : reject(new Error(`job ${jobId} vanished`))), reject);
    };
    const current = () => end(undefined);
    const off = ctx.engine.events.on(jobId, (e) => {
      if (e.type === "done") end(e.job);
    });
    const timer = setTimeout(current, timeoutMs);
    // it may have gone while the caller read the job
    if (client.closed) return current();
    client.once("close", current);
    // it may have finished between the caller's read and this subscription
    if (!ctx.engine.activeJob(jobId)) {
      void ctx.store.getJob(jobId).then((j) => {
        if (j && j.status !== "queued" && j.status !== "running") end(j);
      });
    }
  });
}
