export { loadOfflineConfig, type CrashPoint, type OfflineConfig } from "./config.js";
export { startOfflineService } from "./server.js";
export { arrowPayloads, tableFromChunks } from "@granary/arrow";
export { pointInTimeSql, type PointInTimeSqlInput } from "./training/explain-sql.js";
