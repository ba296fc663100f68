// Message types of the provider channel that the protocol package defines as schemas only.
import type { AckMsg, CancelMsg, ChunkMsg, FailureMsg, HeartbeatMsg, WelcomeMsg } from "@tessera/protocol";
import type { z } from "zod";

export type AckMessage = z.infer<typeof AckMsg>;
export type CancelMessage = z.infer<typeof CancelMsg>;
export type ChunkMessage = z.infer<typeof ChunkMsg>;
export type FailureMessage = z.infer<typeof FailureMsg>;
export type HeartbeatMessage = z.infer<typeof HeartbeatMsg>;
export type WelcomeMessage = z.infer<typeof WelcomeMsg>;

/**
 * Largest frame the gateway's WebSocket accepts (its maxPayload, gateway/src/server.ts). A
 * bigger frame makes it close the session (1009), and a result resent on every reconnect would
 * do so forever; the provider checks a result against this before it sends it.
 */
export const GATEWAY_MAX_FRAME_BYTES = 64 * 1024 * 1024;
