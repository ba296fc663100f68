// Settlement settings: where money lives. `local` (default) is the gateway's own ledger; `evm`
// holds deposits in the Escrow contract named by a deployment.json on the chain at `rpc`.
import { z } from "zod";

export const SettlementConfigSchema = z
  .object({
    kind: z.enum(["local", "evm"]).default("local"),
    /** JSON-RPC URL of the chain (--rpc) */
    rpc: z.url().optional(),
    /** deployment.json written by `tessera chain deploy|up` (--contracts) */
    contracts: z.string().min(1).optional(),
    /** seed from which consumers' custodial voucher keys are derived (default: beside the SQLite file) */
    custodyKeyFile: z.string().min(1).optional(),
    /**
     * the gateway's own secp256k1 key file (created when missing; default beside the SQLite file):
     * the account that submits slashing evidence to the Slashing contract and pays its gas
     */
    chainKeyFile: z.string().min(1).optional(),
    /**
     * the most settled work, counting open jobs, a consumer who signs its own vouchers may leave
     * unsigned before new jobs are refused, nano-credits (--voucher-credit)
     */
    voucherCredit: z
      .string()
      .regex(/^[0-9]{1,30}$/, "--voucher-credit: a whole number of nano-credits")
      .optional(),
    /**
     * how deep a block must be before the gateway acts on it (--chain-confirmations): deposits,
     * redemptions and withdrawals are mirrored, and headroom read, at head − n, so a reorg shallower
     * than n cannot take back money already credited or spent. Unset: DEFAULT_CHAIN_CONFIRMATIONS
     * (optional rather than defaulted here, so the gateway config's literal default stays valid)
     */
    confirmations: z
      .number("--chain-confirmations: a whole number of blocks")
      .int("--chain-confirmations: a whole number of blocks")
      .min(0, "--chain-confirmations: at least 0")
      .max(1000, "--chain-confirmations: at most 1000")
      .optional(),
    /** how often the Escrow contract's logs are polled */
    pollMs: z.number().int().min(50).max(60_000).default(500),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.kind !== "evm") return;
    if (!s.rpc) ctx.addIssue({ code: "custom", path: ["rpc"], message: "--settlement evm needs --rpc <url>" });
    if (!s.contracts)
      ctx.addIssue({
        code: "custom",
        path: ["contracts"],
        message: "--settlement evm needs --contracts <deployment.json>",
      });
  });

export type SettlementConfig = z.infer<typeof SettlementConfigSchema>;

/** act at the chain head: right for a devnet, which never reorganises */
export const DEFAULT_CHAIN_CONFIRMATIONS = 0;

/** 10 credits: a consumer who stops signing can leave at most this much settled work unpaid */
export const DEFAULT_VOUCHER_CREDIT = 10_000_000_000n;
