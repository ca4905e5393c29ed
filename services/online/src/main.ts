import { runMain } from "@granary/server";
import { defaultWorkers } from "./cluster/default-workers.js";
import { loadOnlineConfig } from "./config.js";
import { startOnlineService } from "./server.js";

// What containers run: one worker per CPU it may use unless GRANARY_ONLINE_WORKERS says otherwise
// (the library's default stays 1, for tests, benches and the one-process suite).
await runMain({
  name: "online",
  env: process.env,
  loadConfig: (env) => loadOnlineConfig(env, { workers: defaultWorkers() }),
  start: startOnlineService,
});
