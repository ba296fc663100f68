// Consumers' withdrawals through the custodian under on-chain settlement: requested from the
// Escrow contract by the custodial address, withdrawn after the contract's delay, then paid to the
// address the consumer named. One row per withdrawal, with each step's transaction; amounts are
// uint256 on chain, so kept as decimal text.
import type { ColumnType, Kysely, Migration } from "kysely";
import { num } from "./rows.js";
import type { Database, DbInt } from "./schema.js";

type Num = ColumnType<DbInt, number, number>;

interface ChainWithdrawalsTable {
  id: string;
  consumer_id: string;
  from_address: string;
  to_address: string;
  amount: string;
  status: string;
  ready_at: Num;
  request_tx: string;
  withdraw_tx: string | null;
  paid: string | null;
  transfer_tx: string | null;
  error: string | null;
  created_at: Num;
  updated_at: Num;
}
type WithdrawalsDb = Database & { chain_withdrawals: ChainWithdrawalsTable };

export const chainWithdrawalsMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("chain_withdrawals")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("consumer_id", "text", (c) => c.notNull())
      .addColumn("from_address", "text", (c) => c.notNull())
      .addColumn("to_address", "text", (c) => c.notNull())
      .addColumn("amount", "text", (c) => c.notNull())
      .addColumn("status", "text", (c) => c.notNull())
      .addColumn("ready_at", "bigint", (c) => c.notNull())
      .addColumn("request_tx", "text", (c) => c.notNull())
      .addColumn("withdraw_tx", "text")
      .addColumn("paid", "text")
      .addColumn("transfer_tx", "text")
      .addColumn("error", "text")
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("chain_withdrawals_consumer")
      .on("chain_withdrawals")
      .columns(["consumer_id", "created_at"])
      .execute();
    await db.schema.createIndex("chain_withdrawals_status").on("chain_withdrawals").column("status").execute();
  },
};

export interface ChainWithdrawalRow {
  id: string;
  consumerId: string;
  /** the consumer's custodial address */
  fromAddress: string;
  /** where the consumer asked the tokens to go */
  toAddress: string;
  amount: bigint;
  status: "requested" | "withdrawn" | "paid" | "failed";
  /** chain time (s) from which Escrow.withdraw may be called */
  readyAt: number;
  requestTx: string;
  withdrawTx: string | null;
  /** what Escrow.withdraw actually paid out (its Withdrawn log) */
  paid: bigint | null;
  transferTx: string | null;
  error: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface ChainWithdrawalStore {
  /** creates or updates a withdrawal */
  putWithdrawal(w: ChainWithdrawalRow): Promise<void>;
  /** requested or withdrawn but not yet paid, oldest first */
  openWithdrawals(): Promise<ChainWithdrawalRow[]>;
  /** the consumer's withdrawals, newest first */
  withdrawalsOf(consumerId: string, limit: number): Promise<ChainWithdrawalRow[]>;
}

function toRow(r: {
  id: string;
  consumer_id: string;
  from_address: string;
  to_address: string;
  amount: string;
  status: string;
  ready_at: DbInt;
  request_tx: string;
  withdraw_tx: string | null;
  paid: string | null;
  transfer_tx: string | null;
  error: string | null;
  created_at: DbInt;
  updated_at: DbInt;
}): ChainWithdrawalRow {
  return {
    id: r.id,
    consumerId: r.consumer_id,
    fromAddress: r.from_address,
    toAddress: r.to_address,
    amount: BigInt(r.amount),
    status: r.status as ChainWithdrawalRow["status"],
    readyAt: num(r.ready_at),
    requestTx: r.request_tx,
    withdrawTx: r.withdraw_tx,
    paid: r.paid === null ? null : BigInt(r.paid),
    transferTx: r.transfer_tx,
    error: r.error,
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  };
}

export class KyselyChainWithdrawalStore implements ChainWithdrawalStore {
  private readonly db: Kysely<WithdrawalsDb>;
  constructor(db: Kysely<Database>) {
    this.db = db as unknown as Kysely<WithdrawalsDb>;
  }

  async putWithdrawal(w: ChainWithdrawalRow): Promise<void> {
    const changes = {
      status: w.status,
      ready_at: w.readyAt,
      withdraw_tx: w.withdrawTx,
      paid: w.paid === null ? null : w.paid.toString(),
      transfer_tx: w.transferTx,
      error: w.error,
      updated_at: w.updatedAt,
    };
    await this.db
      .insertInto("chain_withdrawals")
      .values({
        id: w.id,
        consumer_id: w.consumerId,
        from_address: w.fromAddress,
        to_address: w.toAddress,
        amount: w.amount.toString(),
        request_tx: w.requestTx,
        created_at: w.createdAt,
        ...changes,
      })
      .onConflict((oc) => oc.column("id").doUpdateSet(changes))
      .execute();
  }

  async openWithdrawals(): Promise<ChainWithdrawalRow[]> {
    const rows = await this.db
      .selectFrom("chain_withdrawals")
      .selectAll()
      .where("status", "in", ["requested", "withdrawn"])
      .orderBy("created_at")
      .orderBy("id")
      .execute();
    return rows.map(toRow);
  }

  async withdrawalsOf(consumerId: string, limit: number): Promise<ChainWithdrawalRow[]> {
    const rows = await this.db
      .selectFrom("chain_withdrawals")
      .selectAll()
      .where("consumer_id", "=", consumerId)
      .orderBy("created_at", "desc")
      .orderBy("id")
      .limit(limit)
      .execute();
    return rows.map(toRow);
  }
}
