export { loadRegistryConfig, type RegistryConfig } from "./config.js";
export { startRegistryService, type RegistryStartOptions } from "./server.js";
