// Settlement records beside the ledger: each consumer's custodial chain address, every EIP-712
// voucher the gateway signed (history, so a redemption of any of them can be mirrored exactly),
// and node share books. Vouchers are derived from the ledger (pair totals below), so a voucher
// lost in a crash is simply signed again from the same totals.
import { type ColumnType, type Kysely, type Migration, sql } from "kysely";
import { money, num } from "./rows.js";
import type { Database, DbInt } from "./schema.js";

type Num = ColumnType<DbInt, number, number>;
type Money = ColumnType<DbInt, bigint, bigint>;

interface ChainAccountsTable {
  consumer_id: string;
  address: string;
}
interface VouchersTable {
  consumer_id: string;
  provider_id: string;
  consumer_address: string;
  provider_address: string;
  cumulative: Money;
  net: Money;
  signature: string;
  redeemed: Num;
  at: Num;
}
interface NodeSharesTable {
  provider_id: string;
  book: string;
  updated_at: Num;
}
type SettlementDb = Database & {
  chain_accounts: ChainAccountsTable;
  vouchers: VouchersTable;
  node_shares: NodeSharesTable;
};

/** also run inside a group commit (commit/execute.ts), beside the ledger event that moved the money */
export async function upsertSharesBook(
  db: Kysely<Database>,
  b: { providerId: string; book: string; at: number },
): Promise<void> {
  await (db as unknown as Kysely<SettlementDb>)
    .insertInto("node_shares")
    .values({ provider_id: b.providerId, book: b.book, updated_at: b.at })
    .onConflict((oc) => oc.column("provider_id").doUpdateSet({ book: b.book, updated_at: b.at }))
    .execute();
}

export const settlementMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("chain_accounts")
      .addColumn("consumer_id", "text", (c) => c.primaryKey())
      .addColumn("address", "text", (c) => c.notNull().unique())
      .execute();
    await db.schema
      .createTable("vouchers")
      .addColumn("consumer_id", "text", (c) => c.notNull())
      .addColumn("provider_id", "text", (c) => c.notNull())
      .addColumn("consumer_address", "text", (c) => c.notNull())
      .addColumn("provider_address", "text", (c) => c.notNull())
      .addColumn("cumulative", "bigint", (c) => c.notNull())
      .addColumn("net", "bigint", (c) => c.notNull())
      .addColumn("signature", "text", (c) => c.notNull())
      .addColumn("redeemed", "integer", (c) => c.notNull())
      .addColumn("at", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("vouchers_pk", ["consumer_id", "provider_id", "cumulative"])
      .execute();
    await db.schema.createIndex("vouchers_provider").on("vouchers").columns(["provider_id", "consumer_id"]).execute();
    await db.schema
      .createIndex("vouchers_addresses")
      .on("vouchers")
      .columns(["consumer_address", "provider_address", "cumulative"])
      .execute();
    await db.schema
      .createTable("node_shares")
      .addColumn("provider_id", "text", (c) => c.primaryKey())
      .addColumn("book", "text", (c) => c.notNull())
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .execute();
  },
};

export interface VoucherRow {
  consumerId: string;
  providerId: string;
  consumerAddress: string;
  providerAddress: string;
  cumulative: bigint;
  net: bigint;
  signature: string;
  redeemed: boolean;
  at: number;
}

export interface SettlementStore {
  putChainAccount(consumerId: string, address: string): Promise<void>;
  chainAccount(consumerId: string): Promise<string | undefined>;
  consumerOfAddress(address: string): Promise<string | undefined>;
  /** gross cost billed to the pair's jobs, and what the ledger credited the provider for them */
  pairTotals(consumerId: string, providerId: string): Promise<{ gross: bigint; net: bigint }>;
  /** inserting a voucher already recorded changes nothing */
  putVoucher(v: VoucherRow): Promise<void>;
  latestVoucher(consumerId: string, providerId: string): Promise<VoucherRow | undefined>;
  /** the provider's latest voucher from each consumer */
  providerVouchers(providerId: string): Promise<VoucherRow[]>;
  voucherByAddresses(consumer: string, provider: string, cumulative: bigint): Promise<VoucherRow | undefined>;
  /** the highest voucher of the pair marked redeemed below `cumulative` */
  redeemedBefore(consumerId: string, providerId: string, cumulative: bigint): Promise<VoucherRow | undefined>;
  markRedeemed(consumerId: string, providerId: string, cumulative: bigint): Promise<void>;
  getSharesBook(providerId: string): Promise<string | undefined>;
  /** providers that issued shares */
  sharesProviders(): Promise<string[]>;
  /**
   * What settles since `since` paid a provider for jobs whose share distribution
   * (`shares:<job>:distribute`) was never posted: a crash between the two commits
   */
  undistributedEarnings(providerId: string, since: number): Promise<{ jobId: string; amount: bigint }[]>;
  putSharesBook(providerId: string, book: string, at: number): Promise<void>;
}

function toVoucher(r: {
  consumer_id: string;
  provider_id: string;
  consumer_address: string;
  provider_address: string;
  cumulative: DbInt;
  net: DbInt;
  signature: string;
  redeemed: DbInt;
  at: DbInt;
}): VoucherRow {
  return {
    consumerId: r.consumer_id,
    providerId: r.provider_id,
    consumerAddress: r.consumer_address,
    providerAddress: r.provider_address,
    cumulative: money(r.cumulative),
    net: money(r.net),
    signature: r.signature,
    redeemed: num(r.redeemed) === 1,
    at: num(r.at),
  };
}

export class KyselySettlementStore implements SettlementStore {
  private readonly db: Kysely<SettlementDb>;
  constructor(db: Kysely<Database>) {
    this.db = db as unknown as Kysely<SettlementDb>;
  }

  async putChainAccount(consumerId: string, address: string): Promise<void> {
    await this.db
      .insertInto("chain_accounts")
      .values({ consumer_id: consumerId, address: address.toLowerCase() })
      .onConflict((oc) => oc.column("consumer_id").doNothing())
      .execute();
  }

  async chainAccount(consumerId: string): Promise<string | undefined> {
    const r = await this.db
      .selectFrom("chain_accounts")
      .select("address")
      .where("consumer_id", "=", consumerId)
      .executeTakeFirst();
    return r?.address;
  }

  async consumerOfAddress(address: string): Promise<string | undefined> {
    const r = await this.db
      .selectFrom("chain_accounts")
      .select("consumer_id")
      .where("address", "=", address.toLowerCase())
      .executeTakeFirst();
    return r?.consumer_id;
  }

  async pairTotals(consumerId: string, providerId: string): Promise<{ gross: bigint; net: bigint }> {
    const g = await this.db
      .selectFrom("jobs")
      .select(sql<DbInt | null>`sum(cost)`.as("total"))
      .where("consumer_id", "=", consumerId)
      .where("provider_id", "=", providerId)
      .where("cost", "is not", null) // completed, or a stopped stream billed for what it streamed
      .executeTakeFirst();
    const n = await this.db
      .selectFrom("postings")
      .select(sql<DbInt | null>`sum(amount)`.as("total"))
      .where("kind", "=", "settle")
      .where("from_account", "=", `consumer:${consumerId}:escrow`)
      .where("to_account", "=", `provider:${providerId}:earnings`)
      .executeTakeFirst();
    return { gross: g?.total == null ? 0n : money(g.total), net: n?.total == null ? 0n : money(n.total) };
  }

  async putVoucher(v: VoucherRow): Promise<void> {
    await this.db
      .insertInto("vouchers")
      .values({
        consumer_id: v.consumerId,
        provider_id: v.providerId,
        consumer_address: v.consumerAddress.toLowerCase(),
        provider_address: v.providerAddress.toLowerCase(),
        cumulative: v.cumulative,
        net: v.net,
        signature: v.signature,
        redeemed: v.redeemed ? 1 : 0,
        at: v.at,
      })
      .onConflict((oc) => oc.columns(["consumer_id", "provider_id", "cumulative"]).doNothing())
      .execute();
  }

  async latestVoucher(consumerId: string, providerId: string): Promise<VoucherRow | undefined> {
    const r = await this.db
      .selectFrom("vouchers")
      .selectAll()
      .where("consumer_id", "=", consumerId)
      .where("provider_id", "=", providerId)
      .orderBy("cumulative", "desc")
      .limit(1)
      .executeTakeFirst();
    return r ? toVoucher(r) : undefined;
  }

  async providerVouchers(providerId: string): Promise<VoucherRow[]> {
    const rows = await this.db.selectFrom("vouchers").selectAll().where("provider_id", "=", providerId).execute();
    const latest = new Map<string, VoucherRow>();
    for (const row of rows.map(toVoucher)) {
      const seen = latest.get(row.consumerId);
      if (!seen || row.cumulative > seen.cumulative) latest.set(row.consumerId, row);
    }
    return [...latest.values()];
  }

  async voucherByAddresses(consumer: string, provider: string, cumulative: bigint): Promise<VoucherRow | undefined> {
    const r = await this.db
      .selectFrom("vouchers")
      .selectAll()
      .where("consumer_address", "=", consumer.toLowerCase())
      .where("provider_address", "=", provider.toLowerCase())
      .where("cumulative", "=", cumulative)
      .executeTakeFirst();
    return r ? toVoucher(r) : undefined;
  }

  async redeemedBefore(consumerId: string, providerId: string, cumulative: bigint): Promise<VoucherRow | undefined> {
    const r = await this.db
      .selectFrom("vouchers")
      .selectAll()
      .where("consumer_id", "=", consumerId)
      .where("provider_id", "=", providerId)
      .where("redeemed", "=", 1)
      .where("cumulative", "<", cumulative)
      .orderBy("cumulative", "desc")
      .limit(1)
      .executeTakeFirst();
    return r ? toVoucher(r) : undefined;
  }

  async markRedeemed(consumerId: string, providerId: string, cumulative: bigint): Promise<void> {
    await this.db
      .updateTable("vouchers")
      .set({ redeemed: 1 })
      .where("consumer_id", "=", consumerId)
      .where("provider_id", "=", providerId)
      .where("cumulative", "=", cumulative)
      .execute();
  }

  async getSharesBook(providerId: string): Promise<string | undefined> {
    const r = await this.db
      .selectFrom("node_shares")
      .select("book")
      .where("provider_id", "=", providerId)
      .executeTakeFirst();
    return r?.book;
  }

  async sharesProviders(): Promise<string[]> {
    return (await this.db.selectFrom("node_shares").select("provider_id").execute()).map((r) => r.provider_id);
  }

  async undistributedEarnings(providerId: string, since: number): Promise<{ jobId: string; amount: bigint }[]> {
    const rows = await this.db
      .selectFrom("postings as p")
      .select((eb) => ["p.job_id", eb.fn.sum<DbInt>("p.amount").as("amount")])
      .where("p.to_account", "=", `provider:${providerId}:earnings`)
      .where("p.kind", "=", "settle")
      .where("p.at", ">=", since)
      .where("p.job_id", "is not", null)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom("ledger_events as e")
              .select("e.id")
              .where("e.id", "=", sql<string>`'shares:' || p.job_id || ':distribute'`),
          ),
        ),
      )
      .groupBy("p.job_id")
      .orderBy("p.job_id")
      .execute();
    return rows.map((r) => ({ jobId: r.job_id as string, amount: money(r.amount) }));
  }

  async putSharesBook(providerId: string, book: string, at: number): Promise<void> {
    await upsertSharesBook(this.db as unknown as Kysely<Database>, { providerId, book, at });
  }
}
