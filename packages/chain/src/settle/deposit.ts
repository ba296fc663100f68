// Devnet funding of a consumer's escrow: the test token's owner mints `amount`, approves the
// Escrow contract and deposits it for the consumer's address. Used by `tessera up --settlement
// evm` (the demo consumer) and by the tests that need a funded on-chain consumer.
import type { Address, Hex } from "viem";
import type { Clients } from "../deploy/deploy.js";
import type { Deployment } from "../deploy/deployment.js";
import { EscrowAbi, TestTokenAbi } from "../generated/index.js";

export async function mintAndDepositFor(
  c: Clients,
  dep: Pick<Deployment, "token" | "escrow">,
  consumer: Address,
  amount: bigint,
): Promise<void> {
  const w = { chain: c.wallet.chain ?? null, account: c.wallet.account };
  const mined = async (h: Promise<Hex>) => {
    const r = await c.public.waitForTransactionReceipt({ hash: await h, pollingInterval: 50 });
    if (r.status !== "success") throw new Error(`funding transaction ${r.transactionHash} reverted`);
  };
  await mined(
    c.wallet.writeContract({
      ...w,
      address: dep.token,
      abi: TestTokenAbi,
      functionName: "mint",
      args: [c.wallet.account.address, amount],
    }),
  );
  await mined(
    c.wallet.writeContract({
      ...w,
      address: dep.token,
      abi: TestTokenAbi,
      functionName: "approve",
      args: [dep.escrow, amount],
    }),
  );
  await mined(
    c.wallet.writeContract({
      ...w,
      address: dep.escrow,
      abi: EscrowAbi,
      functionName: "depositFor",
      args: [consumer, amount],
    }),
  );
}
