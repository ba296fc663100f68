// Consumers who sign their own vouchers under on-chain settlement: the chain address each bound
// to its API key (proved by that address's signature), kept in chain_accounts beside custodial
// addresses so chain logs map back to the consumer either way, and what each owes per provider.
import { type ColumnType, type Kysely, type Migration, sql } from "kysely";
import { money, num } from "./rows.js";
import type { Database, DbInt } from "./schema.js";

type Num = ColumnType<DbInt, number, number>;

interface ChainAccountsTable {
  consumer_id: string;
  address: string;
  self_signed: ColumnType<DbInt, number | undefined, number>;
  bound_at: Num | null;
  bind_signature: string | null;
}
type BindingsDb = Database & { chain_accounts: ChainAccountsTable };

export const chainBindingsMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    // one column per statement: SQLite's ALTER TABLE adds one at a time
    await db.schema
      .alterTable("chain_accounts")
      .addColumn("self_signed", "integer", (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.alterTable("chain_accounts").addColumn("bound_at", "bigint").execute();
    await db.schema.alterTable("chain_accounts").addColumn("bind_signature", "text").execute();
  },
};

export interface ChainBinding {
  consumerId: string;
  /** lower-case 0x address */
  address: string;
  boundAt: number;
  signature: string;
}

/** one consumer–provider pair's completed work: gross (what a voucher claims) and the provider's local net */
export interface PairTotal {
  providerId: string;
  gross: bigint;
  net: bigint;
}

export interface ChainBindingStore {
  /**
   * Binds `address` to the consumer, replacing a custodial address recorded for it. `taken` when
   * another consumer holds the address; binding the same address again changes nothing.
   */
  bind(b: ChainBinding): Promise<"bound" | "same" | "taken">;
  binding(consumerId: string): Promise<ChainBinding | undefined>;
  /** every self-signing consumer (loaded once at start-up) */
  bindings(): Promise<ChainBinding[]>;
  /** the consumer's completed work per provider */
  pairTotals(consumerId: string): Promise<PairTotal[]>;
}

function toBinding(r: {
  consumer_id: string;
  address: string;
  bound_at: DbInt | null;
  bind_signature: string | null;
}): ChainBinding {
  return {
    consumerId: r.consumer_id,
    address: r.address,
    boundAt: r.bound_at == null ? 0 : num(r.bound_at),
    signature: r.bind_signature ?? "",
  };
}

export class KyselyChainBindingStore implements ChainBindingStore {
  private readonly db: Kysely<BindingsDb>;
  constructor(db: Kysely<Database>) {
    this.db = db as unknown as Kysely<BindingsDb>;
  }

  async bind(b: ChainBinding): Promise<"bound" | "same" | "taken"> {
    const address = b.address.toLowerCase();
    const holder = await this.db
      .selectFrom("chain_accounts")
      .select(["consumer_id", "self_signed"])
      .where("address", "=", address)
      .executeTakeFirst();
    if (holder && holder.consumer_id !== b.consumerId) return "taken";
    if (holder && num(holder.self_signed) === 1) return "same";
    const row = { address, self_signed: 1, bound_at: b.boundAt, bind_signature: b.signature };
    try {
      await this.db
        .insertInto("chain_accounts")
        .values({ consumer_id: b.consumerId, ...row })
        .onConflict((oc) => oc.column("consumer_id").doUpdateSet(row))
        .execute();
    } catch (e) {
      // the address's unique index: another consumer bound it between the read and the write
      if (
        await this.db
          .selectFrom("chain_accounts")
          .select("consumer_id")
          .where("address", "=", address)
          .executeTakeFirst()
      )
        return "taken";
      throw e;
    }
    return "bound";
  }

  async binding(consumerId: string): Promise<ChainBinding | undefined> {
    const r = await this.db
      .selectFrom("chain_accounts")
      .select(["consumer_id", "address", "bound_at", "bind_signature"])
      .where("consumer_id", "=", consumerId)
      .where("self_signed", "=", 1)
      .executeTakeFirst();
    return r ? toBinding(r) : undefined;
  }

  async bindings(): Promise<ChainBinding[]> {
    const rows = await this.db
      .selectFrom("chain_accounts")
      .select(["consumer_id", "address", "bound_at", "bind_signature"])
      .where("self_signed", "=", 1)
      .execute();
    return rows.map(toBinding);
  }

  async pairTotals(consumerId: string): Promise<PairTotal[]> {
    const gross = await this.db
      .selectFrom("jobs")
      .select(["provider_id", sql<DbInt>`sum(cost)`.as("total")])
      .where("consumer_id", "=", consumerId)
      .where("cost", "is not", null) // completed, or a stopped stream billed for what it streamed
      .where("provider_id", "is not", null)
      .groupBy("provider_id")
      .execute();
    const net = await this.db
      .selectFrom("postings")
      .select(["to_account", sql<DbInt>`sum(amount)`.as("total")])
      .where("kind", "=", "settle")
      .where("from_account", "=", `consumer:${consumerId}:escrow`)
      .where("to_account", "like", "provider:%:earnings")
      .groupBy("to_account")
      .execute();
    const nets = new Map(net.map((r) => [r.to_account, money(r.total)]));
    return gross
      .filter((r): r is typeof r & { provider_id: string } => r.provider_id != null)
      .map((r) => ({
        providerId: r.provider_id,
        gross: money(r.total),
        net: nets.get(`provider:${r.provider_id}:earnings`) ?? 0n,
      }))
      .sort((a, b) => (a.providerId < b.providerId ? -1 : 1));
  }
}
