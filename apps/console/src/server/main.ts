import { loadConsoleConfig } from "./config.js";
import { startConsoleServer } from "./console-server.js";

// The console as its own process (its own container in a deployment): JSON lines on stdout.
const log =
  (level: string) =>
  (obj: object, msg: string): void => {
    process.stdout.write(`${JSON.stringify({ level, time: Date.now(), name: "granary-console", msg, ...obj })}\n`);
  };
const logger = { info: log("info"), warn: log("warn") };

const config = loadConsoleConfig();
const server = await startConsoleServer({ ...config, logger });

let stopping = false;
const stop = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "console stopping");
  server.close().then(
    () => process.exit(0),
    (err: unknown) => {
      logger.warn({ err: String(err) }, "console close failed");
      process.exit(1);
    },
  );
};
process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGINT", () => stop("SIGINT"));
