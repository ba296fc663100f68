// `tessera settlement bind` and `tessera vouchers sign`: a consumer who holds its own chain key
// binds its address to its API key, then signs the cumulative vouchers the gateway says are due
// (once, or with --watch until stopped), so the gateway never signs for it.
import { existsSync } from "node:fs";
import type { SignedVoucherView } from "@tessera/sdk";
import type { VoucherSignerOptions } from "@tessera/sdk/vouchers";
import type { Command } from "commander";
import { clientFrom, withClientFlags } from "../lib/credentials.js";
import { reportFailure } from "../lib/failure.js";
import { intFlag } from "../lib/flags.js";
import { formatCredits } from "../lib/format.js";

/**
 * The consumer's key must exist: a fresh key could sign nothing the gateway would take. The chain
 * code (viem) is loaded here, not at the top, so other commands — the gateway among them — never
 * pay its memory.
 */
async function signer(
  o: { ethKey?: string; json?: boolean } & Parameters<typeof clientFrom>[0],
  create: boolean,
  watch: Pick<VoucherSignerOptions, "intervalMs" | "onSigned" | "onError"> = {},
) {
  if (!o.ethKey) throw new Error("--eth-key <file> is required");
  if (!create && !existsSync(o.ethKey)) throw new Error(`--eth-key ${o.ethKey}: no such key file`);
  const [{ loadOrCreateEthKey }, { chainSettlement, VoucherSigner }] = await Promise.all([
    import("@tessera/chain"),
    import("@tessera/sdk/vouchers"),
  ]);
  const client = clientFrom(o);
  // asked before a key file is made: a gateway on its local ledger would only leave one behind
  const escrow = await chainSettlement(client);
  return new VoucherSigner({ client, account: loadOrCreateEthKey(o.ethKey).account, escrow, ...watch });
}

const line = (v: SignedVoucherView) =>
  `signed ${formatCredits(BigInt(v.cumulative))} credits cumulative to ${v.providerId} (${v.provider})`;

export function registerSelfSignCommands(program: Command): void {
  const settlement = program
    .command("settlement")
    .description("on-chain settlement: sign your own vouchers instead of the gateway");
  withClientFlags(
    settlement
      .command("bind")
      .description(
        "bind your own chain address to your API key (signed by it); from then on the gateway never signs your vouchers and you sign them with `tessera vouchers sign`",
      )
      .option(
        "--eth-key <file>",
        "your secp256k1 key file (created when missing; deposit into Escrow from its address)",
      ),
  ).action(async (o) => {
    try {
      const s = await signer(o, true);
      const r = await s.bind();
      process.stdout.write(
        o.json
          ? `${JSON.stringify({ address: r.address, created: r.created })}\n`
          : `${r.created ? "bound" : "already bound"} ${r.address}: deposit into the Escrow contract from it, then sign vouchers with \`tessera vouchers sign\`\n`,
      );
    } catch (e) {
      reportFailure(e, Boolean(o.json));
    }
  });

  const vouchers = program.command("vouchers").description("vouchers you owe providers (own chain key)");
  withClientFlags(
    vouchers
      .command("sign")
      .description(
        "sign every voucher due to your providers and hand it to the gateway (one pass; --watch keeps going)",
      )
      .option("--eth-key <file>", "the key file bound with `tessera settlement bind`")
      .option("--watch", "keep signing as jobs settle, until interrupted")
      .option("--interval-ms <ms>", "--watch: how often to look for due vouchers", intFlag("interval-ms", 50), 1000),
  ).action(async (o) => {
    try {
      const print = (v: SignedVoucherView) => process.stdout.write(o.json ? `${JSON.stringify(v)}\n` : `${line(v)}\n`);
      const s = await signer(o, false, {
        intervalMs: o.intervalMs,
        onSigned: print,
        onError: (e) => process.stderr.write(`warning: ${(e as Error).message}\n`),
      });
      // the first pass fails the command: a key not bound to this API key, or a gateway that will
      // not take vouchers, would only warn on every later pass
      const signed = await s.signDue();
      if (!o.watch) {
        process.stdout.write(
          o.json
            ? `${JSON.stringify({ signed })}\n`
            : `${signed.length ? signed.map(line).join("\n") : "no vouchers due"}\n`,
        );
        return;
      }
      for (const v of signed) print(v);
      s.start();
      await new Promise<void>((resolve) => {
        for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => resolve());
      });
      await s.stop();
    } catch (e) {
      reportFailure(e, Boolean(o.json));
    }
  });
}
