// Entry point of the `tessera` command: one sub-command per file under commands/.
import { readFileSync } from "node:fs";
import { PROTOCOL_VERSION } from "@tessera/protocol";
import { Command } from "commander";
import { registerCommands } from "./commands/index.js";
import { reportFailure } from "./lib/failure.js";

/** the CLI package's version, and the protocol version it speaks */
function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  return `${pkg.version} (protocol ${PROTOCOL_VERSION})`;
}

const program = new Command()
  .name("tessera")
  .description("Tessera: an open, verifiable compute network for AI workloads")
  .version(version())
  .showHelpAfterError();
registerCommands(program);
try {
  await program.parseAsync(process.argv);
} catch (e) {
  // what a command did not handle itself: said in one line, not as a stack trace
  reportFailure(e, process.argv.includes("--json"));
  process.exit(1); // a half-started gateway may hold handles open
}
