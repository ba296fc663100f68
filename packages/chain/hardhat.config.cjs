// Hardhat 2 network settings for Tessera's devnet and contract tests. Contracts are compiled by
// src/compile/compile.ts with the solc npm package, not by Hardhat, so only the network is set here.
module.exports = {
  networks: {
    hardhat: { chainId: 31337, hardfork: "cancun", accounts: { count: 20 }, mining: { auto: true } },
  },
};
