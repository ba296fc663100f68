// Persistence of the per-node verification record (store's node_records, migration
// 0007_reputation) and what reputation is computed from. The coordinator mutates records in
// memory; a timer writes the ones that changed, so a restart finds clean counts, strikes,
// exclusions, uptime and capacity results where they were (at most one tick of changes is lost;
// slashes themselves are in the ledger at once).
import type { ReputationInput } from "@tessera/core";
import type { Store } from "@tessera/store";
import type { ProviderSession } from "../engine/sessions.js";
import type { NodeRecord } from "./coordinator.js";

export function newNodeRecord(): NodeRecord {
  return {
    cleanJobs: 0,
    failures: 0,
    auditsPassed: 0,
    auditsFailed: 0,
    verdictsGiven: 0,
    verifierStrikes: 0,
    slashed: 0n,
    excluded: false,
    canariesPassed: 0,
    canariesFailed: 0,
    goodCanariesPassed: 0,
    wrongCanariesFailed: 0,
    capacityFailures: 0,
    capacityPassed: 0,
    provenThroughput: null,
    onlineMs: 0,
    seenMs: 0,
  };
}

function toJson(r: NodeRecord): Record<string, unknown> {
  return { ...r, slashed: r.slashed.toString() };
}

function fromJson(j: Record<string, unknown>): NodeRecord {
  const r = { ...newNodeRecord(), ...j } as NodeRecord & { slashed: unknown };
  return { ...r, slashed: BigInt(String(r.slashed ?? "0")) };
}

/** Same field values? A record's fields are all primitives (bigint included), so `!==` compares values. */
function same(a: NodeRecord, b: NodeRecord): boolean {
  for (const k of Object.keys(a) as Array<keyof NodeRecord>) if (a[k] !== b[k]) return false;
  return true;
}

export class RecordPersistence {
  /** each record as last written (or loaded): compared field by field, every tick, for every node ever seen */
  private readonly saved = new Map<string, NodeRecord>();

  constructor(private readonly store: Store) {}

  async load(into: Map<string, NodeRecord>): Promise<void> {
    for (const row of await this.store.reputation.nodeRecords()) {
      const r = fromJson(row.record);
      into.set(row.nodeId, r);
      this.saved.set(row.nodeId, { ...r });
    }
  }

  /** Writes the records that changed since they were last written. */
  async flush(records: Map<string, NodeRecord>, now: number): Promise<void> {
    for (const [nodeId, r] of records) {
      const saved = this.saved.get(nodeId);
      if (saved && same(r, saved)) continue;
      const copy = { ...r };
      await this.store.reputation.putNodeRecord({ nodeId, record: toJson(copy), updatedAt: now });
      this.saved.set(nodeId, copy);
    }
  }
}

/** What core's nodeReputation needs, from the record and (when connected) the live session. */
export function reputationInput(r: NodeRecord, s: ProviderSession | undefined): ReputationInput {
  return {
    completed: s?.completed ?? 0,
    failed: s?.failed ?? 0,
    auditsPassed: r.auditsPassed,
    auditsFailed: r.auditsFailed,
    canariesPassed: r.canariesPassed,
    canariesFailed: r.canariesFailed,
    verifierStrikes: r.verifierStrikes,
    capacityFailures: r.capacityFailures,
    onlineMs: r.onlineMs,
    seenMs: r.seenMs,
    msPerUnit: s?.msPerUnit ?? null,
    excluded: r.excluded,
  };
}
