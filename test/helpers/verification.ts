// What the adversary tests read from a running gateway: per-node verification records, a job's
// audits, staking, and waiting out a set of jobs whose provider may be excluded while some of them
// are still queued for it.
import type { JobView, TesseraClient } from "@tessera/sdk";
import { expect } from "vitest";
import { type TestNetwork, until } from "./network.js";

export const TINY = "96389be0649aa1e54654fb5a2be80e0de9001a4b0e1003598cf93a10efee6b5b";

/** A greedy tiny-model job (every honest node answers it alike), placed in `region` when given. */
export function greedyTinyJob(prompt: string, region?: string, maxOutputTokens = 8) {
  return {
    runtime: "llm" as const,
    model: TINY,
    input: { prompt },
    params: { temperature: 0 },
    limits: { maxOutputTokens },
    ...(region ? { constraints: { regions: [region] } } : {}),
  };
}

/** Prompts of the canary tests' rounds: distinct enough that their greedy answers differ. */
const ROUND_PROMPTS = ["The world is", "Once upon a time", "water", "Tessera network", "fire and ice", "a cat"];

/**
 * One round of real work for audits and canaries to feed on: a greedy tiny-model job of 24 tokens
 * per prompt in `region`, each prompt suffixed with the round, all completed.
 */
export async function honestRound(client: TesseraClient, round: number, region = "honest"): Promise<void> {
  const jobs = [];
  for (const p of ROUND_PROMPTS) jobs.push(await client.submitJob(greedyTinyJob(`${p} ${round}`, region, 24)));
  for (const j of jobs) {
    const done = await client.waitForJob(j.id);
    if (done.status !== "completed") throw new Error(`job ${j.id} ${done.status}: ${done.error}`);
  }
}

export interface NodeView {
  id: string;
  operator: string;
  region: string;
  verifier: boolean;
  online: boolean;
  stake: string;
  auditProbability: number;
  excluded: boolean;
  slashed: string;
  auditsPassed: number;
  auditsFailed: number;
  verdictsGiven: number;
  verifierStrikes: number;
  canariesPassed: number;
  canariesFailed: number;
  goodCanariesPassed: number;
  wrongCanariesFailed: number;
}

export interface AuditView {
  id: string;
  jobId: string;
  providerId: string;
  status: "pending" | "passed" | "slashed" | "void";
  verdicts: Array<{ verifierId: string; pass: boolean }>;
}

export function verificationReads(net: TestNetwork) {
  const nodes = async (): Promise<NodeView[]> =>
    ((await (await fetch(`${net.url}/v1/verification/nodes`)).json()) as { data: NodeView[] }).data;
  return {
    nodes,
    byId: async (id: string) => (await nodes()).find((n) => n.id === id),
    byRegion: async (region: string) => (await nodes()).find((n) => n.region === region),
    /**
     * The audits of a job's work: pending ones, and decided ones but `void`. A void audit is a
     * known-wrong verifier canary made of the job's result under another job's spec (it may come to
     * any job that settled undrawn): it judged nothing of the provider, and a test counting the
     * audits of a provider's results must not count it.
     */
    audits: async (jobId: string): Promise<AuditView[]> =>
      ((await (await fetch(`${net.url}/v1/jobs/${jobId}/audits`)).json()) as { data: AuditView[] }).data.filter(
        (a) => a.status !== "void",
      ),
    stake: async (providerId: string, amount: bigint) => {
      const r = await fetch(`${net.url}/v1/admin/stake`, {
        method: "POST",
        headers: { authorization: `Bearer ${net.adminKey}`, "content-type": "application/json" },
        body: JSON.stringify({ providerId, amount: amount.toString() }),
      });
      expect(r.status).toBe(200);
    },
  };
}

/**
 * Gateway flags and a staking step for tests whose verifiers must judge audits but never run jobs:
 * verifiers are staked `--verifier-min-stake` (half of `--min-stake`), enough to be sent audits and
 * too little to be scheduled.
 */
export function stakedVerifiers(minStake: bigint) {
  const verifierStake = minStake / 2n;
  return {
    flags: ["--min-stake", minStake.toString(), "--verifier-min-stake", verifierStake.toString()],
    /** waits until `count` verifiers are listed, then stakes each of those not staked yet */
    stake: async (reads: ReturnType<typeof verificationReads>, count: number): Promise<void> => {
      const listed = await until(`${count} verifiers listed`, async () => {
        const v = (await reads.nodes()).filter((n) => n.verifier);
        return v.length === count ? v : undefined;
      });
      for (const n of listed) if (BigInt(n.stake) < verifierStake) await reads.stake(n.id, verifierStake);
    },
  };
}

/**
 * The operator's view (admin key) of the canaries: the canary consumer is found from the account
 * its first `canary:fund` posting pays into (the public never sees it), then its jobs and fundings.
 */
export function canaryReads(net: TestNetwork) {
  const asOperator = async <T>(path: string): Promise<T> =>
    (await fetch(`${net.url}${path}`, { headers: { authorization: `Bearer ${net.adminKey}` } })).json() as Promise<T>;
  let consumer: string | undefined;
  const canaryConsumer = async (): Promise<string | undefined> => {
    if (consumer) return consumer;
    const postings = await asOperator<{ data: Array<{ eventId: string; to: string }> }>(
      "/v1/explorer/ledger/postings?limit=200",
    );
    const fund = postings.data.find((p) => p.eventId.startsWith("canary:fund:"));
    consumer = /^consumer:([^:]+):available$/.exec(fund?.to ?? "")?.[1];
    return consumer;
  };
  return {
    asOperator,
    canaryConsumer,
    /** ids of the canary jobs in `status` (all when absent), newest first */
    jobs: async (status?: string): Promise<string[]> => {
      const c = await canaryConsumer();
      if (!c) return [];
      const q = `/v1/explorer/jobs?consumer=${c}&limit=200${status ? `&status=${status}` : ""}`;
      return (await asOperator<{ data: Array<{ id: string }> }>(q)).data.map((j) => j.id);
    },
    /** fundings of the canary account so far */
    fundings: async (): Promise<number> => {
      const c = await canaryConsumer();
      if (!c) return 0;
      const q = `/v1/explorer/ledger/postings?account=consumer:${c}:available&limit=200`;
      return (await asOperator<{ data: Array<{ eventId: string }> }>(q)).data.filter((p) =>
        p.eventId.startsWith("canary:fund:"),
      ).length;
    },
  };
}

/**
 * Waits for every job to end. A job still queued once `stuck()` says its provider can no longer
 * take it (excluded) is cancelled, which refunds its escrow.
 */
export async function settleJobs(
  client: TesseraClient,
  ids: string[],
  stuck: () => Promise<boolean>,
  timeoutMs = 120_000,
): Promise<JobView[]> {
  const end = Date.now() + timeoutMs;
  const done: JobView[] = [];
  for (const id of ids) {
    for (;;) {
      const job = await client.waitForJob(id, { timeoutMs: 2_000 });
      if (job.status !== "queued" && job.status !== "running") {
        done.push(job);
        break;
      }
      if (job.status === "queued" && (await stuck())) {
        await client.cancelJob(id);
        continue;
      }
      if (Date.now() > end) throw new Error(`job ${id} still ${job.status} after ${timeoutMs} ms`);
    }
  }
  return done;
}

/** Waits until every audit of these jobs is decided; returns the audits. */
export async function decidedAudits(
  reads: ReturnType<typeof verificationReads>,
  jobIds: string[],
  timeoutMs = 120_000,
): Promise<AuditView[]> {
  const end = Date.now() + timeoutMs;
  const all: AuditView[] = [];
  for (let i = 0; i < jobIds.length; i += 16) {
    const chunk = jobIds.slice(i, i + 16);
    for (;;) {
      const lists = await Promise.all(chunk.map((id) => reads.audits(id)));
      if (lists.every((l) => l.every((a) => a.status !== "pending"))) {
        all.push(...lists.flat());
        break;
      }
      if (Date.now() > end) throw new Error("audits still pending");
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return all;
}
