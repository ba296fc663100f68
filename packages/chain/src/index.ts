// @tessera/chain: Tessera's settlement contracts on an EVM chain through viem: generated typed
// bindings, EIP-712 message helpers, deployment, and Hardhat 2 devnets.
export * from "./deploy/connect.js";
export * from "./deploy/deploy.js";
export * from "./deploy/deployment.js";
export * from "./devnet/hardhat.js";
export * from "./devnet/up.js";
export * from "./eip712/evidence.js";
export * from "./eip712/sign.js";
export * from "./eip712/types.js";
export * from "./generated/index.js";
export * from "./keys/eth-key.js";
export * from "./revert.js";
export * from "./settle/deposit.js";
export * from "./settle/redeem.js";
export * from "./settle/slash.js";
export * from "./settle/stake.js";
export * from "./settle/unbond.js";
