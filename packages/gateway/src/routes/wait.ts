// Waiting for a job to finish, for synchronous APIs: resolves with the final record, or with
// the current one when the wait runs out.
import type { JobRecord } from "@tessera/core";
import type { RouteContext } from "./context.js";

export function waitForJob(ctx: RouteContext, jobId: string, timeoutMs: number): Promise<JobRecord> {
  return new Promise((resolve, reject) => {
    const off = ctx.engine.events.on(jobId, (e) => {
      if (e.type !== "done") return;
      clearTimeout(timer);
      resolve(e.job);
    });
    const timer = setTimeout(() => {
      off();
      const active = ctx.engine.activeJob(jobId);
      if (active) resolve(active);
      else ctx.store.getJob(jobId).then((j) => (j ? resolve(j) : reject(new Error(`job ${jobId} vanished`))), reject);
    }, timeoutMs);
    // it may have finished between the caller's read and this subscription
    if (!ctx.engine.activeJob(jobId)) {
      void ctx.store.getJob(jobId).then((j) => {
        if (j && j.status !== "queued" && j.status !== "running") {
          off();
          clearTimeout(timer);
          resolve(j);
        }
      });
    }
  });
}
