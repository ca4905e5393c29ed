export { loadOnlineConfig, type OnlineConfig, type OnlineConfigDefaults } from "./config.js";
export { startOnlineService, type OnlineRunningService } from "./server.js";
