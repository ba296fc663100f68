// Node revenue shares on the local ledger, the mirror of contracts/NodeShares.sol: a provider
// issues shares of its earnings once; each distribution raises a per-share accumulator (2^128
// fixed point, remainder carried) so nothing loops over holders; holders claim at any time.
import type { LedgerEvent, Transfer } from "./postings.js";

export const SHARE_SCALE = 1n << 128n;

export const sharesAccounts = {
  /** revenue distributed to a provider's holders and not yet claimed */
  pool: (providerId: string) => `shares:${providerId}:pool`,
  /** what a holder has claimed from any node's pool */
  holder: (holderId: string) => `shareholder:${holderId}:balance`,
  earnings: (providerId: string) => `provider:${providerId}:earnings`,
} as const;

export interface Holding {
  shares: bigint;
  /** accumulator value at this holder's last settlement */
  snapshot: bigint;
  /** settled, not yet claimed */
  credit: bigint;
}

/** A provider's share book. Pure data: every operation returns a new book. */
export interface SharesBook {
  providerId: string;
  supply: bigint;
  /** scaled revenue per share, SHARE_SCALE = one nano-credit per share */
  acc: bigint;
  /** scaled remainder that did not divide evenly, carried into the next distribution */
  carry: bigint;
  holders: Record<string, Holding>;
  /** when the shares were issued: earnings settled since then belong to the holders (absent in books from before it was kept) */
  issuedAt?: number;
}

export class SharesError extends Error {}

export function issueShares(providerId: string, supply: bigint, holder = providerId, at?: number): SharesBook {
  if (supply <= 0n) throw new SharesError("a share supply must be positive");
  return {
    providerId,
    supply,
    acc: 0n,
    carry: 0n,
    holders: { [holder]: { shares: supply, snapshot: 0n, credit: 0n } },
    ...(at === undefined ? {} : { issuedAt: at }),
  };
}

function settled(book: SharesBook, holderId: string): Holding {
  const h = book.holders[holderId] ?? { shares: 0n, snapshot: book.acc, credit: 0n };
  return {
    shares: h.shares,
    snapshot: book.acc,
    credit: h.credit + (h.shares * (book.acc - h.snapshot)) / SHARE_SCALE,
  };
}

/** What a holder could claim now. */
export function claimable(book: SharesBook, holderId: string): bigint {
  return book.holders[holderId] ? settled(book, holderId).credit : 0n;
}

/** Moves `amount` of the provider's earnings into its holders' pool and raises the accumulator. */
export function distribute(
  book: SharesBook,
  id: string,
  amount: bigint,
  at: number,
): { book: SharesBook; event: LedgerEvent } {
  if (amount < 0n) throw new SharesError("a distribution cannot be negative");
  const scaled = amount * SHARE_SCALE + book.carry;
  const inc = scaled / book.supply;
  const transfers: Transfer[] =
    amount > 0n
      ? [{ from: sharesAccounts.earnings(book.providerId), to: sharesAccounts.pool(book.providerId), amount }]
      : [];
  return {
    book: { ...book, acc: book.acc + inc, carry: scaled - inc * book.supply },
    event: { id, kind: "share_distribute", at, transfers },
  };
}

/** Moves shares between holders; both are settled first so revenue so far stays with its earner. */
export function transferShares(book: SharesBook, from: string, to: string, shares: bigint): SharesBook {
  if (shares <= 0n) throw new SharesError("a share transfer must be positive");
  const src = settled(book, from);
  if (src.shares < shares) throw new SharesError(`${from} holds ${src.shares} shares, fewer than ${shares}`);
  const holders = { ...book.holders, [from]: { ...src, shares: src.shares - shares } };
  const dst = settled({ ...book, holders }, to);
  holders[to] = { ...dst, shares: dst.shares + shares };
  return { ...book, holders };
}

/** Pays out a holder's credit from the pool; a claim of nothing is an event without transfers. */
export function claimShares(
  book: SharesBook,
  holderId: string,
  id: string,
  at: number,
): { book: SharesBook; amount: bigint; event: LedgerEvent } {
  const h = settled(book, holderId);
  const amount = h.credit;
  const transfers: Transfer[] =
    amount > 0n ? [{ from: sharesAccounts.pool(book.providerId), to: sharesAccounts.holder(holderId), amount }] : [];
  return {
    book: { ...book, holders: { ...book.holders, [holderId]: { ...h, credit: 0n } } },
    amount,
    event: { id, kind: "share_claim", at, transfers },
  };
}

/** JSON form (bigints as decimal strings) for storage and the HTTP API. */
export function sharesBookToJson(book: SharesBook): Record<string, unknown> {
  return JSON.parse(JSON.stringify(book, (_k, v) => (typeof v === "bigint" ? v.toString() : v)));
}

export function sharesBookFromJson(raw: unknown): SharesBook {
  const b = raw as {
    providerId: string;
    supply: string;
    acc: string;
    carry: string;
    holders: Record<string, Record<string, string>>;
    issuedAt?: number;
  };
  const holders: Record<string, Holding> = {};
  for (const [k, h] of Object.entries(b.holders))
    holders[k] = {
      shares: BigInt(h.shares ?? "0"),
      snapshot: BigInt(h.snapshot ?? "0"),
      credit: BigInt(h.credit ?? "0"),
    };
  return {
    providerId: b.providerId,
    supply: BigInt(b.supply),
    acc: BigInt(b.acc),
    carry: BigInt(b.carry),
    holders,
    ...(typeof b.issuedAt === "number" ? { issuedAt: b.issuedAt } : {}),
  };
}
