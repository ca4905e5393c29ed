// The child process of `npm run soak`: the one-process suite (what `npm start` runs) on free ports,
// on the data directory, database and keys the parent chose (GRANARY_DATA_DIR, DATABASE_URL or
// embedded PostgreSQL, GRANARY_BOOTSTRAP_ADMIN_KEY, GRANARY_SERVICE_KEY). It reports its addresses
// over IPC and stops on the parent's "stop" message, or when the parent goes away.
import { startSuiteOnFreePorts } from "@granary/suite";
import { createLogger } from "@granary/telemetry";

const env: Record<string, string> = {};
for (const key of ["GRANARY_DATA_DIR", "DATABASE_URL", "GRANARY_BOOTSTRAP_ADMIN_KEY", "GRANARY_SERVICE_KEY", "GRANARY_LOG_LEVEL"]) {
  const value = process.env[key];
  if (value) env[key] = value;
}
const suite = await startSuiteOnFreePorts(env, createLogger({ level: env["GRANARY_LOG_LEVEL"] ?? "warn", service: "soak" }));
process.send!({ addresses: suite.addresses, embeddedPostgres: suite.embeddedPostgres });

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await suite.stop();
  process.exit(0);
};
process.on("message", () => void stop());
process.on("disconnect", () => void stop());
