// Where client commands find the gateway and the API key: flags, then environment, then the
// credentials file that `tessera up` writes.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { TesseraClient } from "@tessera/sdk";
import type { Command } from "commander";
import { z } from "zod";

const CredentialsSchema = z.object({ gateway: z.string().url(), apiKey: z.string().min(1) });
export type Credentials = z.infer<typeof CredentialsSchema>;

export interface ClientFlags {
  gateway?: string;
  apiKey?: string;
  dir?: string;
}

export function resolveCredentials(flags: ClientFlags): Credentials {
  const file = join(flags.dir ?? ".tessera", "credentials.json");
  const fromFile = existsSync(file) ? CredentialsSchema.partial().parse(JSON.parse(readFileSync(file, "utf8"))) : {};
  const gateway = flags.gateway ?? process.env.TESSERA_GATEWAY ?? fromFile.gateway;
  const apiKey = flags.apiKey ?? process.env.TESSERA_API_KEY ?? fromFile.apiKey;
  if (!gateway || !apiKey)
    throw new Error(
      `no gateway or API key: pass --gateway and --api-key, set TESSERA_GATEWAY and TESSERA_API_KEY, or run 'tessera up' to create ${file}`,
    );
  return { gateway, apiKey };
}

export function clientFrom(flags: ClientFlags): TesseraClient {
  const c = resolveCredentials(flags);
  return new TesseraClient({ baseUrl: c.gateway, apiKey: c.apiKey });
}

/** Adds the flags every client command shares. */
export function withClientFlags(cmd: Command): Command {
  return cmd
    .option("--gateway <url>", "gateway URL (default: $TESSERA_GATEWAY or .tessera/credentials.json)")
    .option("--api-key <key>", "API key (default: $TESSERA_API_KEY or .tessera/credentials.json)")
    .option("--dir <dir>", "directory holding credentials.json", ".tessera")
    .option("--json", "print JSON");
}
