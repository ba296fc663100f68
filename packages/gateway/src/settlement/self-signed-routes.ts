// HTTP API of consumers who sign their own vouchers (--settlement evm): bind an address by its
// signature, see what is due per provider as EIP-712 typed data, hand in signed vouchers.
import { TesseraError } from "@tessera/protocol";
import type { FastifyInstance } from "fastify";
import type { Hex } from "viem";
import { z } from "zod";
import { parse } from "../errors.js";
import type { RouteContext } from "../routes/context.js";
import type { EvmSettlement } from "./evm.js";
import type { SelfSignedVouchers } from "./self-signed.js";

const Address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "a 0x-prefixed 20-byte address");
const Signature = z.string().regex(/^0x[0-9a-fA-F]{130}$/, "a 65-byte 0x-prefixed signature");
const Bind = z.object({ address: Address, signature: Signature }).strict();
const SignedVoucher = z
  .object({
    providerId: z.string().min(1).max(128),
    cumulative: z.string().regex(/^[1-9][0-9]{0,77}$/, "a positive integer"),
    signature: Signature,
  })
  .strict();

export function selfSignedRoutes(
  app: FastifyInstance,
  ctx: RouteContext,
  chain: { evm?: EvmSettlement; selfSigned?: SelfSignedVouchers },
): void {
  const onChain = () => {
    if (!chain.evm || !chain.selfSigned)
      throw new TesseraError(
        "vouchers_local",
        409,
        "This gateway settles on its local ledger: there are no vouchers to sign.",
        "invalid_request_error",
      );
    return { evm: chain.evm, self: chain.selfSigned };
  };

  app.get("/v1/settlement/address", async (req) => {
    const consumerId = await ctx.auth.consumerFor(req.headers.authorization);
    const { self } = onChain();
    const own = self.addressOf(consumerId);
    return {
      object: "settlement_address",
      consumerId,
      address: own ?? null,
      signer: own ? "consumer" : "custodian",
      /** what the address to bind signs (EIP-191 personal message) */
      message: self.bindMessage(consumerId),
    };
  });

  app.post("/v1/settlement/address", async (req, reply) => {
    const consumerId = await ctx.auth.consumerFor(req.headers.authorization);
    const { evm } = onChain();
    const b = parse(Bind, req.body);
    const r = await evm.bind(consumerId, b.address, b.signature as Hex);
    return reply
      .status(r.created ? 201 : 200)
      .send({ object: "settlement_address", consumerId, address: r.address, signer: "consumer" });
  });

  app.get("/v1/settlement/vouchers/due", async (req) => {
    const consumerId = await ctx.auth.consumerFor(req.headers.authorization);
    const { self } = onChain();
    const consumer = self.addressOf(consumerId);
    if (!consumer)
      throw new TesseraError(
        "not_bound",
        409,
        "The gateway signs this consumer's vouchers as its custodian; bind your own address first (POST /v1/settlement/address).",
        "invalid_request_error",
      );
    const due = await self.due(consumerId);
    return {
      object: "list",
      consumer,
      unsigned: due.reduce((s, v) => s + v.cumulative - v.signed, 0n).toString(),
      data: due.map((v) => {
        const t = self.typedData(consumer, v);
        return {
          object: "voucher_due",
          providerId: v.providerId,
          provider: v.provider,
          cumulative: v.cumulative.toString(),
          signed: v.signed.toString(),
          typedData: { ...t, message: { ...t.message, cumulative: v.cumulative.toString() } },
        };
      }),
    };
  });

  app.post("/v1/settlement/vouchers", async (req, reply) => {
    const consumerId = await ctx.auth.consumerFor(req.headers.authorization);
    const { self } = onChain();
    const b = parse(SignedVoucher, req.body);
    const v = await self.accept(consumerId, b.providerId, BigInt(b.cumulative), b.signature as Hex);
    // viem only here, under --settlement evm: a local-ledger gateway never loads it
    const { getAddress } = await import("viem");
    return reply.status(201).send({
      object: "voucher",
      providerId: v.providerId,
      consumer: getAddress(self.addressOf(consumerId) ?? "0x0000000000000000000000000000000000000000"),
      provider: v.provider,
      cumulative: v.cumulative.toString(),
      signature: b.signature,
    });
  });
}
