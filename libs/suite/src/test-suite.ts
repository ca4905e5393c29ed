import { startSuiteOnFreePorts, type RunningSuite } from "./suite.js";
import { createLogger } from "@granary/telemetry";
import { createTestDatabase, scratchDir, type TestDatabase } from "@granary/testing";

/** The whole suite in-process on free ports, on a fresh test database, for the SDK, CLI, demo and cross-language tests. */
export async function startTestSuite(name: string): Promise<{ suite: RunningSuite; stop(): Promise<void> }> {
  const db: TestDatabase = await createTestDatabase(name);
  const dir = scratchDir(name);
  const suite = await startSuiteOnFreePorts({ GRANARY_DATA_DIR: dir.path, DATABASE_URL: db.url, GRANARY_LOG_LEVEL: "warn" }, createLogger({ level: "warn", service: name }));
  return {
    suite,
    async stop() {
      await suite.stop();
      await db.drop();
      dir.remove();
    },
  };
}
