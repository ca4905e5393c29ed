import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@connectrpc/connect";
import { createServiceClient } from "@granary/clients";
import { MetadataService } from "@granary/proto/metadata";
import type { RunningService } from "@granary/server";
import { createLogger } from "@granary/telemetry";
import { loadMetadataConfig } from "../config.js";
import { startMetadataService } from "../server.js";

export interface TestMetadata {
  readonly client: Client<typeof MetadataService>;
  readonly address: string;
  /** Stops the service and starts it again on the same database and port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** A metadata service on a free port against the given database, with a typed client. */
export async function startTestMetadata(databaseUrl: string, env: Record<string, string> = {}): Promise<TestMetadata> {
  const dataDir = mkdtempSync(join(tmpdir(), "granary-metadata-"));
  const logger = createLogger({ level: process.env.GRANARY_TEST_LOG_LEVEL ?? "silent", service: "metadata-test" });
  const base = { GRANARY_METADATA_PORT: "0", GRANARY_DATA_DIR: dataDir, DATABASE_URL: databaseUrl, GRANARY_SHUTDOWN_GRACE_MS: "2000", ...env };
  let running: RunningService = await startMetadataService(loadMetadataConfig(base), logger);
  const port = running.address.split(":").pop() ?? "0";
  const address = running.address;
  return {
    client: createServiceClient(MetadataService, address),
    address,
    async restart() {
      await running.stop();
      running = await startMetadataService(loadMetadataConfig({ ...base, GRANARY_METADATA_PORT: port }), logger);
    },
    async stop() {
      await running.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
