export { newApiKey } from "./auth.js";
export { type GatewayConfig, type GatewayConfigInput, GatewayConfigSchema, parseGatewayConfig } from "./config.js";
export { type GatewayHandle, startGateway } from "./server.js";
