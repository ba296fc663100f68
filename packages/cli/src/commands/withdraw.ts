// `tessera withdraw` and `tessera withdraw list`: a consumer of a gateway that settles on chain takes
// money out of the Escrow contract through the gateway, which holds its custodial key: requested
// now, withdrawn after the contract's delay and sent to the named address (POST /v1/settlement/withdraw).
import { AmountSchema } from "@tessera/protocol";
import type { WithdrawalView } from "@tessera/sdk";
import type { Command } from "commander";
import { clientFrom, withClientFlags } from "../lib/credentials.js";
import { reportFailure } from "../lib/failure.js";
import { formatCredits } from "../lib/format.js";

function line(w: WithdrawalView): string {
  const tx = w.transferTx ?? w.withdrawTx ?? w.requestTx ?? "-";
  const ready = w.status === "requested" ? ` ready ${new Date(w.readyAt).toISOString()}` : "";
  return `${w.id}  ${w.status.padEnd(9)} ${formatCredits(BigInt(w.amount))} credits → ${w.to}${ready}  tx ${tx}${w.error ? `  (${w.error})` : ""}`;
}

export function registerWithdrawCommands(program: Command): void {
  const withdraw = withClientFlags(
    program
      .command("withdraw")
      .description(
        "on-chain settlement: withdraw from your Escrow deposit to an address (the gateway requests it, waits out the contract's delay and pays it out); `withdraw list` shows your withdrawals",
      )
      .option("--amount <nc>", "how much, in nano-credits (at most your headroom)")
      .option("--to <address>", "0x address that receives the tokens"),
  ).action(async (o) => {
    if (!AmountSchema.safeParse(o.amount).success)
      return reportFailure(
        new Error("--amount must be a positive integer of nano-credits, at most 10^18"),
        Boolean(o.json),
      );
    if (!o.to || !/^0x[0-9a-fA-F]{40}$/.test(o.to))
      return reportFailure(new Error("--to must be a 0x-prefixed 20-byte address"), Boolean(o.json));
    try {
      const w = await clientFrom(o).withdraw(BigInt(o.amount), o.to);
      process.stdout.write(o.json ? `${JSON.stringify(w, null, 2)}\n` : `${line(w)}\n`);
    } catch (e) {
      reportFailure(e, Boolean(o.json));
    }
  });
  // the client flags are `withdraw`'s: given before or after `list`, they land there
  withdraw
    .command("list")
    .description("your withdrawals, newest first (takes withdraw's --gateway, --api-key, --json)")
    .action(async (_o, cmd: Command) => {
      const o = cmd.optsWithGlobals();
      try {
        const { data } = await clientFrom(o).withdrawals();
        process.stdout.write(
          o.json
            ? `${JSON.stringify(data, null, 2)}\n`
            : `${data.length ? data.map(line).join("\n") : "no withdrawals"}\n`,
        );
      } catch (e) {
        reportFailure(e, Boolean(o.json));
      }
    });
}
