export { startGateway, type GatewayHandle } from "./server.js";
export { parseGatewayConfig, GatewayConfigSchema, type GatewayConfig, type GatewayConfigInput } from "./config.js";
export { newApiKey } from "./auth.js";
