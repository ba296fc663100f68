// Message types of the provider channel that the protocol package defines as schemas only.
import {
  type AckMsg,
  type CancelMsg,
  type ChunkMsg,
  type FailureMsg,
  type HeartbeatMsg,
  MAX_FRAME_BYTES,
  type WelcomeMsg,
} from "@tessera/protocol";
import type { z } from "zod";

export type AckMessage = z.infer<typeof AckMsg>;
export type CancelMessage = z.infer<typeof CancelMsg>;
export type ChunkMessage = z.infer<typeof ChunkMsg>;
export type FailureMessage = z.infer<typeof FailureMsg>;
export type HeartbeatMessage = z.infer<typeof HeartbeatMsg>;
export type WelcomeMessage = z.infer<typeof WelcomeMsg>;

/** Largest frame the gateway's WebSocket accepts (protocol's MAX_FRAME_BYTES). */
export const GATEWAY_MAX_FRAME_BYTES = MAX_FRAME_BYTES;
