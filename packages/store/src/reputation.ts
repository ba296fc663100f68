// Per-node verification record (audit and canary outcomes, strikes, exclusion, uptime, capacity
// results) kept across gateway restarts. Stored as one JSON document per node: the gateway owns
// its shape (verification/coordinator.ts) and rewrites it whole when it changes.
import type { Kysely, Migration } from "kysely";
import { num } from "./rows.js";
import type { Database, DbInt } from "./schema.js";

interface NodeRecordsTable {
  node_id: string;
  record: string;
  updated_at: DbInt;
}
type ReputationDb = Database & { node_records: NodeRecordsTable };

export const reputationMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("node_records")
      .addColumn("node_id", "text", (c) => c.primaryKey())
      .addColumn("record", "text", (c) => c.notNull())
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .execute();
  },
};

export interface NodeRecordRow {
  nodeId: string;
  record: Record<string, unknown>;
  updatedAt: number;
}

export interface ReputationStore {
  putNodeRecord(r: NodeRecordRow): Promise<void>;
  nodeRecords(): Promise<NodeRecordRow[]>;
}

export class KyselyReputationStore implements ReputationStore {
  private readonly db: Kysely<ReputationDb>;
  constructor(db: Kysely<Database>) {
    this.db = db as unknown as Kysely<ReputationDb>;
  }

  async putNodeRecord(r: NodeRecordRow): Promise<void> {
    const record = JSON.stringify(r.record);
    await this.db
      .insertInto("node_records")
      .values({ node_id: r.nodeId, record, updated_at: r.updatedAt })
      .onConflict((oc) => oc.column("node_id").doUpdateSet({ record, updated_at: r.updatedAt }))
      .execute();
  }

  async nodeRecords(): Promise<NodeRecordRow[]> {
    const rows = await this.db.selectFrom("node_records").selectAll().execute();
    return rows.map((r) => ({
      nodeId: r.node_id,
      record: JSON.parse(r.record) as Record<string, unknown>,
      updatedAt: num(r.updated_at),
    }));
  }
}
