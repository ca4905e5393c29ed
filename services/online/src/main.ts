import { availableParallelism } from "node:os";
import { runMain } from "@granary/server";
import { loadOnlineConfig } from "./config.js";
import { startOnlineService } from "./server.js";

// What containers run: one worker per core unless GRANARY_ONLINE_WORKERS says otherwise (the
// library's default stays 1, for tests, benches and the one-process suite).
await runMain({
  name: "online",
  env: process.env,
  loadConfig: (env) => loadOnlineConfig(env, { workers: availableParallelism() }),
  start: startOnlineService,
});
