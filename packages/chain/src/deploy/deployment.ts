// deployment.json: where Tessera's contracts live on a chain and with what parameters.
// Validated with zod wherever it is read, so a stale or hand-edited file fails with a clear message.
import { readFileSync, writeFileSync } from "node:fs";
import { getAddress } from "viem";
import { z } from "zod";

const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/)
  .transform((a) => getAddress(a));
const uint = z
  .string()
  .regex(/^[0-9]+$/)
  .transform((s) => BigInt(s));

export const deploymentSchema = z.strictObject({
  chainId: z.number().int().positive(),
  deployer: address,
  token: address,
  registry: address,
  escrow: address,
  slashing: address,
  shares: address,
  params: z.strictObject({
    minStake: uint,
    unbondDelay: z.number().int().nonnegative(),
    withdrawDelay: z.number().int().nonnegative(),
    feeBps: z.number().int().min(0).max(10_000),
    feeRecipient: address,
    canaryAuthority: address,
    providerPenalty: uint,
    verifierPenalty: uint,
    verifierRewardBps: z.number().int().min(0).max(10_000),
    disputeWindow: z.number().int().nonnegative(),
  }),
  sourceHash: z.string(),
});

export type Deployment = z.output<typeof deploymentSchema>;

export function serializeDeployment(d: Deployment): string {
  return `${JSON.stringify(d, (_k, v) => (typeof v === "bigint" ? v.toString() : v), 2)}\n`;
}

export function readDeployment(path: string): Deployment {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new Error(`--contracts ${path}: cannot read deployment file (${(e as Error).message})`);
  }
  const parsed = deploymentSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`--contracts ${path}: not a Tessera deployment: ${parsed.error.message}`);
  return parsed.data;
}

export function writeDeployment(path: string, d: Deployment): void {
  writeFileSync(path, serializeDeployment(d));
}
