import { startSuiteOnFreePorts, type RunningSuite } from "./suite.js";
import { createLogger } from "@granary/telemetry";
import { createTestDatabase, scratchDir, testKeys, type TestDatabase, type TestKeys } from "@granary/testing";

/**
 * The whole suite in-process on free ports, on a fresh test database, for the SDK, CLI, demo and
 * cross-language tests. Authentication is on, as in production: `keys.adminKey` is an admin API key
 * (GRANARY_BOOTSTRAP_ADMIN_KEY) and `keys.serviceKey` the services' own. `env` adds or overrides
 * settings (GRANARY_DRAIN_DELAY_MS…).
 */
export async function startTestSuite(
  name: string,
  env: Record<string, string> = {},
): Promise<{ suite: RunningSuite; keys: TestKeys; dataDir: string; stop(): Promise<void> }> {
  const db: TestDatabase = await createTestDatabase(name);
  const dir = scratchDir(name);
  const keys = testKeys();
  const suite = await startSuiteOnFreePorts(
    { GRANARY_DATA_DIR: dir.path, DATABASE_URL: db.url, GRANARY_LOG_LEVEL: "warn", ...keys.env, ...env },
    createLogger({ level: "warn", service: name }),
  );
  return {
    suite,
    keys,
    dataDir: dir.path,
    async stop() {
      await suite.stop();
      await db.drop();
      dir.remove();
    },
  };
}
