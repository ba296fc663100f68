export { newApiKey } from "./auth.js";
export { MAX_PENDING_HELLOS, PRE_HELLO_BYTES } from "./channel.js";
export { type GatewayConfig, type GatewayConfigInput, GatewayConfigSchema, parseGatewayConfig } from "./config.js";
export { type GatewayHandle, startGateway } from "./server.js";
