// A ProviderRegistry refusal in words: the contract's custom error and what it means for the
// node, instead of viem's "The contract function … reverted."

/** the contract's custom error in words, or the failure's first line */
export async function revertReason(e: unknown): Promise<string> {
  const { decodeRevert } = await import("@tessera/chain");
  const r = decodeRevert(e);
  const at = (s: unknown) => new Date(Number(s) * 1000).toISOString();
  if (!r) return ((e as Error).message ?? String(e)).split("\n")[0] ?? "failed";
  switch (r.name) {
    case "UnbondingNotReady":
      return `UnbondingNotReady: the unbonding delay has not passed; withdraw after ${at(r.args[0])}`;
    case "FrozenUntil":
      return `FrozenUntil: a dispute freezes this stake until ${at(r.args[0])}`;
    case "NothingUnbonding":
      return "NothingUnbonding: no stake is unbonding; run `tessera chain unbond` first";
    case "NotRegistered":
      return "NotRegistered: this address has never bonded stake (`tessera chain stake`)";
    case "StakeTooLow":
      return `StakeTooLow: registering needs at least ${r.args[1]} bonded, this would bond ${r.args[0]}`;
    case "InsufficientBond":
      return `InsufficientBond: ${r.args[0]} bonded, ${r.args[1]} asked to unbond`;
    default:
      return `${r.name}(${r.args.map(String).join(", ")})`;
  }
}

/** A contract's refusal as an error with code `reverted` and its reason in words; any other failure as it is. */
export async function chainFailure(e: unknown): Promise<unknown> {
  const { decodeRevert } = await import("@tessera/chain");
  if (!decodeRevert(e)) return e;
  return Object.assign(new Error(await revertReason(e)), { code: "reverted" });
}
