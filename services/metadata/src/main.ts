import { runMain } from "@granary/server";
import { loadMetadataConfig } from "./config.js";
import { startMetadataService } from "./server.js";

await runMain({
  name: "metadata",
  env: process.env,
  loadConfig: loadMetadataConfig,
  start: (config, logger) => startMetadataService(config, logger),
});
