// Aggregated reads over the verification records for the explorer: audit outcomes decided in a
// time window, pass rates per provider, a provider's slashes (from the ledger's slash postings)
// and its open unbondings. Each is one or two indexed queries, never the whole audits table.
import { type Kysely, type Migration, sql } from "kysely";
import { money, num } from "./rows.js";
import type { DbInt } from "./schema.js";
import type { VerificationDb } from "./verification.js";

/** Indexes for these reads: audits by decision time (the overview's window), unbondings per provider. */
export const verificationReadsMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.createIndex("audits_decided").on("audits").column("decided_at").execute();
    await db.schema.createIndex("unbondings_provider").on("unbondings").columns(["provider_id", "released"]).execute();
  },
};

/** Undecided audits in the order the gateway pages through them while they wait for a verifier. */
export const pendingAuditsMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.createIndex("audits_status").on("audits").columns(["status", "created_at", "id"]).execute();
  },
};

/** Audits decided, by outcome: `failed` counts audits that ended in a slash. */
export interface AuditOutcomes {
  passed: number;
  failed: number;
}

export interface ProviderAuditCounts extends AuditOutcomes {
  pending: number;
}

/** One slash of a provider, read from the ledger's slash event (postings out of its stake). */
export interface SlashRow {
  eventId: string;
  jobId: string | null;
  at: number;
  /** taken from stake (and unbonding): refund + rewards + burned */
  amount: bigint;
  refunded: bigint;
  rewarded: bigint;
  burned: bigint;
  /** verifiers rewarded for catching it */
  reporters: string[];
  /**
   * the slashed audit of the job, when one was recorded; for a verifier's slash ("verifier": its
   * canary verdict contradicted the known answer) the canary audit, and no job: the canary's job is
   * another provider's, which the verifier was not slashed for
   */
  auditId: string | null;
  kind: "sampled" | "canary" | "verifier" | null;
}

export interface ProviderSlashes {
  /** slash events of the provider, all time */
  count: number;
  total: bigint;
  /** newest first, at most `limit` */
  rows: SlashRow[];
}

export interface OpenUnbonding {
  id: string;
  amount: bigint;
  releaseAt: number;
}

export interface VerificationReads {
  /**
   * Audits of providers' results decided in (from, to]: passed vs slashed. Known-wrong canaries for
   * verifiers are not counted: neither those of results no provider ran (signed by a throw-away
   * identity) nor the void ones made of a provider's genuine result under another job's spec.
   */
  auditOutcomes(from: number, to: number): Promise<AuditOutcomes>;
  /** decided and pending audits per provider, for the given providers only */
  auditCounts(providerIds: readonly string[]): Promise<Map<string, ProviderAuditCounts>>;
  providerSlashes(providerId: string, limit: number): Promise<ProviderSlashes>;
  /** unbondings not yet paid out, soonest first */
  openUnbondings(providerId: string): Promise<OpenUnbonding[]>;
}

const stakeAccount = (providerId: string) => `provider:${providerId}:stake`;
const earningsOf = /^provider:(.+):earnings$/;
/** core's verifierSlashEvent id */
const verifierSlashOf = /^audit:(.+):verifier-slash$/;

export class KyselyVerificationReads implements VerificationReads {
  protected readonly db: Kysely<VerificationDb>;
  constructor(db: Kysely<VerificationDb>) {
    this.db = db;
  }

  async auditOutcomes(from: number, to: number): Promise<AuditOutcomes> {
    const rows = await this.db
      .selectFrom("audits as a")
      .innerJoin("jobs as j", (jn) => jn.onRef("j.id", "=", "a.job_id").onRef("j.provider_id", "=", "a.provider_id"))
      .select((eb) => ["a.status", eb.fn.countAll<DbInt>().as("n")])
      .where("a.decided_at", ">", from)
      .where("a.decided_at", "<=", to)
      .where("a.status", "in", ["passed", "slashed"])
      .groupBy("a.status")
      .execute();
    const out: AuditOutcomes = { passed: 0, failed: 0 };
    for (const r of rows) {
      if (r.status === "passed") out.passed = num(r.n);
      else out.failed = num(r.n);
    }
    return out;
  }

  async auditCounts(providerIds: readonly string[]): Promise<Map<string, ProviderAuditCounts>> {
    const out = new Map<string, ProviderAuditCounts>();
    if (providerIds.length === 0) return out;
    const rows = await this.db
      .selectFrom("audits")
      .select((eb) => ["provider_id", "status", eb.fn.countAll<DbInt>().as("n")])
      .where("provider_id", "in", [...providerIds])
      .groupBy(["provider_id", "status"])
      .execute();
    for (const r of rows) {
      const c = out.get(r.provider_id) ?? { passed: 0, failed: 0, pending: 0 };
      if (r.status === "passed") c.passed += num(r.n);
      else if (r.status === "slashed") c.failed += num(r.n);
      // a void audit (a verifier canary made of the result) judged nothing of the provider's work
      else if (r.status === "pending") c.pending += num(r.n);
      out.set(r.provider_id, c);
    }
    return out;
  }

  async providerSlashes(providerId: string, limit: number): Promise<ProviderSlashes> {
    const stake = stakeAccount(providerId);
    const totals = await this.db
      .selectFrom("postings")
      .select((eb) => [sql<DbInt>`count(distinct event_id)`.as("n"), eb.fn.sum<DbInt | null>("amount").as("total")])
      .where("kind", "=", "slash")
      .where("from_account", "=", stake)
      .executeTakeFirst();
    const events = await this.db
      .selectFrom("postings")
      .select((eb) => ["event_id", eb.fn.max("id").as("last")])
      .where("kind", "=", "slash")
      .where("from_account", "=", stake)
      .groupBy("event_id")
      .orderBy("last", "desc")
      .limit(limit)
      .execute();
    if (events.length === 0) return { count: 0, total: 0n, rows: [] };
    const postings = await this.db
      .selectFrom("postings")
      .select(["event_id", "job_id", "to_account", "amount", "at"])
      .where(
        "event_id",
        "in",
        events.map((e) => e.event_id),
      )
      .where("from_account", "=", stake)
      .orderBy("id")
      .execute();
    const byEvent = new Map<string, SlashRow>();
    for (const p of postings) {
      const verifierAudit = verifierSlashOf.exec(p.event_id)?.[1];
      const row = byEvent.get(p.event_id) ?? {
        eventId: p.event_id,
        jobId: verifierAudit === undefined ? p.job_id : null,
        at: num(p.at),
        amount: 0n,
        refunded: 0n,
        rewarded: 0n,
        burned: 0n,
        reporters: [],
        auditId: verifierAudit ?? null,
        kind: verifierAudit === undefined ? null : "verifier",
      };
      const amount = money(p.amount);
      row.amount += amount;
      const reporter = earningsOf.exec(p.to_account)?.[1];
      if (p.to_account === "burned") row.burned += amount;
      else if (reporter !== undefined) {
        row.rewarded += amount;
        row.reporters.push(reporter);
      } else row.refunded += amount;
      byEvent.set(p.event_id, row);
    }
    const jobIds = [...byEvent.values()].flatMap((r) => (r.jobId ? [r.jobId] : []));
    const audits =
      jobIds.length === 0
        ? []
        : await this.db
            .selectFrom("audits")
            .select(["id", "job_id", "kind"])
            .where("provider_id", "=", providerId)
            .where("status", "=", "slashed")
            .where("job_id", "in", jobIds)
            .orderBy("created_at")
            .orderBy("id")
            .execute();
    for (const row of byEvent.values()) {
      const a = audits.find((x) => x.job_id === row.jobId);
      if (a) {
        row.auditId = a.id;
        row.kind = a.kind as SlashRow["kind"];
      }
    }
    return {
      count: totals ? num(totals.n) : 0,
      total: totals?.total == null ? 0n : money(totals.total),
      rows: events.flatMap((e) => byEvent.get(e.event_id) ?? []),
    };
  }

  async openUnbondings(providerId: string): Promise<OpenUnbonding[]> {
    const rows = await this.db
      .selectFrom("unbondings")
      .select(["id", "amount", "release_at"])
      .where("provider_id", "=", providerId)
      .where("released", "=", 0)
      .orderBy("release_at")
      .orderBy("id")
      .execute();
    return rows.map((r) => ({ id: r.id, amount: money(r.amount), releaseAt: num(r.release_at) }));
  }
}
