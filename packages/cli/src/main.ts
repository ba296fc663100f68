// Entry point of the `tessera` command: one sub-command per file under commands/.
import { Command } from "commander";
import { registerCommands } from "./commands/index.js";

const program = new Command()
  .name("tessera")
  .description("Tessera: an open, verifiable compute network for AI workloads")
  .showHelpAfterError();
registerCommands(program);
await program.parseAsync(process.argv);
