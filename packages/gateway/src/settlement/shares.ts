// Node shares on the local ledger: the pure book (core/ledger/shares.ts) kept in the store and
// its money moved through the group writer by event id. One queue per provider, so two requests
// never race on the same book.
import { randomUUID } from "node:crypto";
import {
  claimable,
  claimShares,
  distribute,
  issueShares,
  type SharesBook,
  SharesError,
  sharesBookFromJson,
  sharesBookToJson,
  transferShares,
} from "@tessera/core";
import { NotFound, TesseraError } from "@tessera/protocol";
import type { Store } from "@tessera/store";
import type { GroupWriter } from "../engine/writer.js";
import { KeyedSerial } from "../keyed-serial.js";

export class SharesConflict extends TesseraError {
  constructor(message: string) {
    super("shares_conflict", 409, message, "invalid_request_error");
  }
}

export class NodeSharesService {
  private readonly queues = new KeyedSerial();

  constructor(
    private readonly store: Store,
    private readonly writer: Pick<GroupWriter, "write">,
    private readonly now: () => number = Date.now,
  ) {}

  private serial<T>(providerId: string, fn: () => Promise<T>): Promise<T> {
    return this.queues.run(providerId, fn);
  }

  private async load(providerId: string): Promise<SharesBook | undefined> {
    const raw = await this.store.settlement.getSharesBook(providerId);
    return raw ? sharesBookFromJson(JSON.parse(raw)) : undefined;
  }

  private row(book: SharesBook) {
    return { providerId: book.providerId, book: JSON.stringify(sharesBookToJson(book)), at: this.now() };
  }

  /** a book change that moves no money (issue, transfer) */
  private async save(book: SharesBook): Promise<void> {
    const r = this.row(book);
    await this.store.settlement.putSharesBook(r.providerId, r.book, r.at);
  }

  private async mustLoad(providerId: string): Promise<SharesBook> {
    const book = await this.load(providerId);
    if (!book) throw new NotFound("shares", providerId, "providerId");
    return book;
  }

  async view(providerId: string) {
    const book = await this.mustLoad(providerId);
    return {
      object: "node_shares",
      providerId,
      supply: book.supply.toString(),
      holders: Object.entries(book.holders)
        .filter(([h, x]) => x.shares > 0n || claimable(book, h) > 0n)
        .map(([holder, x]) => ({ holder, shares: x.shares.toString(), claimable: claimable(book, holder).toString() })),
    };
  }

  issue(providerId: string, supply: bigint) {
    return this.serial(providerId, async () => {
      if (await this.load(providerId)) throw new SharesConflict(`provider ${providerId} has already issued shares`);
      await this.save(this.guard(() => issueShares(providerId, supply, providerId, this.now())));
      return this.view(providerId);
    });
  }

  transfer(providerId: string, from: string, to: string, shares: bigint) {
    return this.serial(providerId, async () => {
      const book = await this.mustLoad(providerId);
      await this.save(this.guard(() => transferShares(book, from, to, shares)));
      return this.view(providerId);
    });
  }

  claim(providerId: string, holder: string) {
    return this.serial(providerId, async () => {
      const book = await this.mustLoad(providerId);
      const c = claimShares(book, holder, `shares:${providerId}:claim:${randomUUID()}`, this.now());
      const r = await this.writer.write({ ledger: c.event, sharesBook: this.row(c.book) });
      if (!r.ok) throw r.error;
      return { object: "share_claim", providerId, holder, amount: c.amount.toString() };
    });
  }

  /** A provider with shares passes each job's earnings on to its holders' pool. */
  onEarnings(providerId: string, jobId: string, amount: bigint): Promise<void> {
    return this.serial(providerId, async () => {
      const book = await this.load(providerId);
      if (!book) return;
      const d = distribute(book, `shares:${jobId}:distribute`, amount, this.now());
      const r = await this.writer.write({ ledger: d.event, sharesBook: this.row(d.book) });
      if (!r.ok) throw r.error;
    });
  }

  /**
   * Distributes what settles paid providers with shares while no distribution followed (the
   * gateway stopped between the two commits); run at start-up. A distribution's id is its job's,
   * so one that was posted after all is not posted twice.
   */
  async recover(): Promise<number> {
    let n = 0;
    for (const providerId of await this.store.settlement.sharesProviders()) {
      const book = await this.load(providerId);
      if (book?.issuedAt === undefined) continue;
      for (const e of await this.store.settlement.undistributedEarnings(providerId, book.issuedAt)) {
        await this.onEarnings(providerId, e.jobId, e.amount);
        n++;
      }
    }
    return n;
  }

  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof SharesError) throw new SharesConflict(e.message);
      throw e;
    }
  }
}
