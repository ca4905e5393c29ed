import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@connectrpc/connect";
import { newApiKey } from "@granary/auth";
import { createServiceClient } from "@granary/service-clients";
import { MetadataService } from "@granary/proto/metadata";
import type { RunningService } from "@granary/server";
import { createLogger } from "@granary/telemetry";
import { loadMetadataConfig } from "../config.js";
import { startMetadataService } from "../server.js";

export interface TestMetadata {
  /** A client that calls as the cluster admin (adminKey). */
  readonly client: Client<typeof MetadataService>;
  readonly address: string;
  /** A client that calls as one of Granary's services (the internal service key). */
  readonly serviceClient: Client<typeof MetadataService>;
  /** The bootstrap admin key the service was started with. */
  readonly adminKey: string;
  /** The service's data directory (service.key, admin.key). */
  readonly dataDir: string;
  /** A client that calls with the given API key (none: no authorization header at all). */
  clientWith(apiKey: string | undefined): Client<typeof MetadataService>;
  /** Stops the service and starts it again on the same database and port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** A metadata service on a free port against the given database, with a typed admin client. */
export async function startTestMetadata(databaseUrl: string, env: Record<string, string> = {}): Promise<TestMetadata> {
  const dataDir = mkdtempSync(join(tmpdir(), "granary-metadata-"));
  const logger = createLogger({ level: process.env.GRANARY_TEST_LOG_LEVEL ?? "silent", service: "metadata-test" });
  const adminKey = env.GRANARY_BOOTSTRAP_ADMIN_KEY ?? newApiKey().token;
  const serviceKey = env.GRANARY_SERVICE_KEY ?? `grs_${randomBytes(32).toString("base64url")}`;
  const base = {
    GRANARY_METADATA_PORT: "0",
    GRANARY_DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    GRANARY_SHUTDOWN_GRACE_MS: "2000",
    GRANARY_BOOTSTRAP_ADMIN_KEY: adminKey,
    GRANARY_SERVICE_KEY: serviceKey,
    ...env,
  };
  let running: RunningService = await startMetadataService(loadMetadataConfig(base), logger);
  const port = running.address.split(":").pop() ?? "0";
  const address = running.address;
  const clientWith = (apiKey: string | undefined) => createServiceClient(MetadataService, address, { apiKey });
  return {
    client: clientWith(adminKey),
    serviceClient: clientWith(serviceKey),
    address,
    adminKey,
    dataDir,
    clientWith,
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
