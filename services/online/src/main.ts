import { runMain } from "@granary/server";
import { loadOnlineConfig } from "./config.js";
import { startOnlineService } from "./server.js";

await runMain({ name: "online", env: process.env, loadConfig: loadOnlineConfig, start: startOnlineService });
