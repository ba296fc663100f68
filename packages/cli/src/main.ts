// Entry point of the `tessera` command: one sub-command per file under commands/.
import { Command } from "commander";
import { registerCommands } from "./commands/index.js";
import { reportFailure } from "./lib/failure.js";

const program = new Command()
  .name("tessera")
  .description("Tessera: an open, verifiable compute network for AI workloads")
  .showHelpAfterError();
registerCommands(program);
try {
  await program.parseAsync(process.argv);
} catch (e) {
  // what a command did not handle itself: said in one line, not as a stack trace
  reportFailure(e, process.argv.includes("--json"));
  process.exit(1); // a half-started gateway may hold handles open
}
