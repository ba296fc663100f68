import type { Command } from "commander";
import { registerBatchCommands } from "./batch.js";
import { registerChainCommands } from "./chain.js";
import { registerClientCommands } from "./client.js";
import { registerGatewayCommand } from "./gateway.js";
import { registerProviderCommand } from "./provider.js";
import { registerSelfSignCommands } from "./self-sign.js";
import { registerUpCommand } from "./up.js";
import { registerWithdrawCommands } from "./withdraw.js";

export function registerCommands(program: Command): void {
  registerUpCommand(program);
  registerGatewayCommand(program);
  registerProviderCommand(program);
  registerClientCommands(program);
  registerBatchCommands(program);
  registerChainCommands(program);
  registerWithdrawCommands(program);
  registerSelfSignCommands(program);
}
