// Proof of capacity, the provider's side: multiply the two seeded matrices the gateway names and
// send the product back. The gateway checks it with Freivalds' algorithm and times the answer.

import { matmul, randomMatrix } from "@tessera/core";
import type { CapacityChallengeMessage, ProviderMessage } from "@tessera/protocol";
import type { Logger } from "pino";

/** The honest answer: A·B as little-endian float64, base64. */
export function answerCapacityChallenge(msg: CapacityChallengeMessage): ProviderMessage {
  const product = matmul(randomMatrix(msg.n, msg.seedA), randomMatrix(msg.n, msg.seedB), msg.n);
  return { type: "capacity_proof", challengeId: msg.challengeId, product: encodeMatrix(product) };
}

export function encodeMatrix(m: Float64Array): string {
  const bytes = Buffer.alloc(m.length * 8);
  for (let i = 0; i < m.length; i++) bytes.writeDoubleLE(m[i] as number, i * 8);
  return bytes.toString("base64");
}

export function handleCapacityChallenge(
  msg: CapacityChallengeMessage,
  send: (m: ProviderMessage) => boolean,
  log: Logger,
  answer: (m: CapacityChallengeMessage) => ProviderMessage = answerCapacityChallenge,
): void {
  // after the current frame, so a heartbeat or result already queued goes first
  setImmediate(() => {
    const started = performance.now();
    const reply = answer(msg);
    log.info({ challengeId: msg.challengeId, n: msg.n, ms: Math.round(performance.now() - started) }, "capacity proof");
    send(reply);
  });
}
