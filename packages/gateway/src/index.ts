export { newApiKey } from "./auth.js";
export { CLOSE_OVER_BUDGET, MAX_PENDING_HELLOS, PRE_HELLO_BYTES } from "./channel.js";
export { type GatewayConfig, type GatewayConfigInput, GatewayConfigSchema, parseGatewayConfig } from "./config.js";
export { type GatewayHandle, startGateway } from "./server.js";
