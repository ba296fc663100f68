// The newest block the gateway acts on under --chain-confirmations: money read from the chain
// counts only once its block is that deep, so a shallower reorg cannot take back what was credited.

/** head − confirmations, or undefined while the chain is not yet that long (nothing is confirmed). */
export function confirmedHead(head: bigint, confirmations: number): bigint | undefined {
  const n = BigInt(confirmations);
  return head >= n ? head - n : undefined;
}

/** Where a read acts: a confirmed block number, or `latest` when no confirmations are asked for. */
export type ReadAt = bigint | "latest";
