import { runMain } from "@granary/server";
import { loadRegistryConfig } from "./config.js";
import { startRegistryService } from "./server.js";

await runMain({
  name: "registry",
  env: process.env,
  loadConfig: loadRegistryConfig,
  start: (config, logger) => startRegistryService(config, logger),
});
