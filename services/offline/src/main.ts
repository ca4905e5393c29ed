import { runMain } from "@granary/server";
import { loadOfflineConfig } from "./config.js";
import { startOfflineService } from "./server.js";

await runMain({ name: "offline", env: process.env, loadConfig: loadOfflineConfig, start: startOfflineService });
