// Structured logs to stderr (stdout is kept for the one start-up line the CLI prints).
import pino, { type Logger } from "pino";

export function createLogger(level: string): Logger {
  return pino({ name: "tessera-provider", level }, pino.destination({ fd: 2, sync: true }));
}
