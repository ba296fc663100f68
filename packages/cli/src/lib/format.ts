// Amounts for people: nano-credits (the ledger unit) as credits with nine decimals.
export function formatCredits(nc: bigint): string {
  const whole = nc / 1_000_000_000n;
  const frac = (nc % 1_000_000_000n).toString().padStart(9, "0");
  return `${whole}.${frac}`;
}

/** "1 verifier", "3 providers" */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
