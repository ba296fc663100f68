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
  let gateway = flags.gateway ?? process.env.TESSERA_GATEWAY;
  let apiKey = flags.apiKey ?? process.env.TESSERA_API_KEY;
  // the file is read only for what flags and environment leave open: a broken one then says so
  if ((!gateway || !apiKey) && existsSync(file)) {
    const fromFile = readCredentialsFile(file);
    gateway ??= fromFile.gateway;
    apiKey ??= fromFile.apiKey;
  }
  if (!gateway || !apiKey)
    throw new Error(
      `no gateway or API key: pass --gateway and --api-key, set TESSERA_GATEWAY and TESSERA_API_KEY, or run 'tessera up' to create ${file}`,
    );
  return { gateway, apiKey };
}

function readCredentialsFile(file: string): Partial<Credentials> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(
      `${file} is not readable JSON (${(e as Error).message}); fix it, delete it, or pass --gateway and --api-key`,
    );
  }
  const r = CredentialsSchema.partial().safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new Error(`${file}: ${issue?.path.join(".") || "content"}: ${issue?.message ?? "invalid"}`);
  }
  return r.data;
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
