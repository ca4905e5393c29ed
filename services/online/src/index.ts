export { loadOnlineConfig, type OnlineConfig } from "./config.js";
export { startOnlineService } from "./server.js";
