import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@connectrpc/connect";
import { createServiceClient } from "@granary/service-clients";
import { RegistryService } from "@granary/proto/registry";
import type { RunningService } from "@granary/server";
import { createLogger } from "@granary/telemetry";
import { testKeys, type TestKeys } from "@granary/testing";
import { loadRegistryConfig } from "../config.js";
import { startRegistryService } from "../server.js";
import { createMemoryModelRecords, type MemoryModelRecords } from "./memory-model-records.js";

export interface TestRegistry {
  /** Calls with `apiKey`. */
  readonly client: Client<typeof RegistryService>;
  /**
   * The key `client` sends: the internal service key. A user's key is resolved by the metadata
   * service, which a registry alone cannot reach (such a call is UNAVAILABLE, see models.test.ts).
   */
  readonly apiKey: string;
  readonly keys: TestKeys;
  readonly address: string;
  /**
   * The metadata records of models, in memory, when no GRANARY_METADATA_ADDRESS was given (the same
   * across restarts); undefined when the registry records them in that metadata service.
   */
  readonly records: MemoryModelRecords | undefined;
  /** <blobRoot>: sha256/ and tmp/ below it. */
  readonly blobRoot: string;
  /** Stops the service and starts it again on the same database, blob root and port. */
  restart(env?: Record<string, string>): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A registry on a free port against the given database, with a typed client. Without
 * GRANARY_METADATA_ADDRESS in `env` it points at a port nobody listens on: versions that name a
 * feature view then fail UNAVAILABLE, and models are recorded in memory (`records`); the rest
 * works. Authentication is on, with `keys`.
 */
export async function startTestRegistry(databaseUrl: string, env: Record<string, string> = {}, keys: TestKeys = testKeys()): Promise<TestRegistry> {
  const dataDir = mkdtempSync(join(tmpdir(), "granary-registry-"));
  const logger = createLogger({ level: process.env.GRANARY_TEST_LOG_LEVEL ?? "silent", service: "registry-test" });
  const base = {
    GRANARY_REGISTRY_PORT: "0",
    GRANARY_DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    GRANARY_SHUTDOWN_GRACE_MS: "2000",
    GRANARY_METADATA_ADDRESS: "127.0.0.1:9",
    ...keys.env,
    ...env,
  };
  const records = env.GRANARY_METADATA_ADDRESS === undefined ? createMemoryModelRecords() : undefined;
  let running: RunningService = await startRegistryService(loadRegistryConfig(base), logger, { records });
  const address = running.address;
  const port = address.split(":").pop() ?? "0";
  return {
    client: createServiceClient(RegistryService, address, { apiKey: keys.serviceKey }),
    apiKey: keys.serviceKey,
    keys,
    records,
    address,
    blobRoot: loadRegistryConfig(base).blobRoot,
    async restart(more = {}) {
      await running.stop();
      running = await startRegistryService(loadRegistryConfig({ ...base, ...more, GRANARY_REGISTRY_PORT: port }), logger, { records });
    },
    async stop() {
      await running.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
