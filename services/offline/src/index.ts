export { loadOfflineConfig, type CrashPoint, type OfflineConfig } from "./config.js";
export { startOfflineService } from "./server.js";
export { VALIDATION_REPORT_TRAILER } from "./write/insert-rows.js";
export { arrowPayloads, tableFromChunks } from "@granary/arrow";
export { pointInTimeSql, type PointInTimeSqlInput } from "./training/explain-sql.js";
