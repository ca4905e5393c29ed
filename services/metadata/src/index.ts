export { loadMetadataConfig, type MetadataConfig } from "./config.js";
export { startMetadataService, type MetadataStartOptions } from "./server.js";
