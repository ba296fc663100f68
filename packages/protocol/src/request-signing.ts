// Signed HTTP requests from nodes: a provider proves it holds its ed25519 key on a plain request
// (no WebSocket session), e.g. to fetch its payment vouchers. The signature covers the purpose,
// node id and time, so it cannot be replayed for another purpose or after the window.
import { type Identity, signBytes, verifyBytes } from "./identity.js";

export const NODE_AUTH_HEADERS = {
  node: "x-tessera-node",
  time: "x-tessera-time",
  signature: "x-tessera-signature",
} as const;

/** how far a signed request's time may be from the gateway's clock */
export const NODE_AUTH_WINDOW_MS = 5 * 60_000;

export function nodeRequestBytes(purpose: string, nodeId: string, time: number): Uint8Array {
  return new TextEncoder().encode(`tessera.node-request.v1\n${purpose}\n${nodeId}\n${time}`);
}

export function signNodeRequest(identity: Identity, purpose: string, time: number): Record<string, string> {
  return {
    [NODE_AUTH_HEADERS.node]: identity.id,
    [NODE_AUTH_HEADERS.time]: String(time),
    [NODE_AUTH_HEADERS.signature]: signBytes(identity, nodeRequestBytes(purpose, identity.id, time)),
  };
}

/** The node id of a validly signed request, or undefined. */
export function verifyNodeRequest(
  purpose: string,
  headers: Record<string, string | string[] | undefined>,
  now: number,
): string | undefined {
  const node = headers[NODE_AUTH_HEADERS.node];
  const time = headers[NODE_AUTH_HEADERS.time];
  const sig = headers[NODE_AUTH_HEADERS.signature];
  if (typeof node !== "string" || typeof time !== "string" || typeof sig !== "string") return undefined;
  if (!/^[0-9a-f]{64}$/.test(node) || !/^[0-9]{1,16}$/.test(time)) return undefined;
  if (Math.abs(Number(time) - now) > NODE_AUTH_WINDOW_MS) return undefined;
  return verifyBytes(node, nodeRequestBytes(purpose, node, Number(time)), sig) ? node : undefined;
}
