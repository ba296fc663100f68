// A gateway started in the test's own process on an in-memory store, with one funded consumer:
// for tests of the HTTP surface that need no provider process.
import { randomBytes } from "node:crypto";
import { type GatewayConfigInput, type GatewayHandle, startGateway } from "@tessera/gateway";
import { TesseraClient } from "@tessera/sdk";

export async function gatewayInProcess(
  config: Partial<GatewayConfigInput> = {},
  consumer: { name?: string; deposit?: bigint } = {},
): Promise<{ gw: GatewayHandle; adminKey: string; apiKey: string }> {
  const adminKey = randomBytes(24).toString("base64url");
  const gw = await startGateway({ port: 0, db: ":memory:", adminKey, logLevel: "silent", ...config });
  const admin = new TesseraClient({ baseUrl: gw.url, adminKey });
  const { apiKey } = await admin.createConsumer(consumer.name ?? "tester", consumer.deposit ?? 1_000_000_000n);
  return { gw, adminKey, apiKey };
}
