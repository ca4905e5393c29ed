import type { Client } from "@connectrpc/connect";
import { createServiceClient } from "@granary/service-clients";
import { loadMetadataConfig, startMetadataService } from "@granary/metadata";
import { loadOfflineConfig, startOfflineService } from "@granary/offline";
import { loadOnlineConfig, startOnlineService } from "@granary/online";
import { MetadataService } from "@granary/proto/metadata";
import { OfflineService } from "@granary/proto/offline";
import { OnlineService } from "@granary/proto/online";
import type { RunningService } from "@granary/server";
import type { LogLevel } from "@granary/config";
import { createLogger } from "@granary/telemetry";
import { createTestDatabase, type TestKeys } from "@granary/testing";

/** Metadata, online and offline in this process on a fresh test database, with clients. */
export interface OfflineStack {
  /** Clients that call as the test's admin. */
  readonly md: Client<typeof MetadataService>;
  readonly on: Client<typeof OnlineService>;
  readonly off: Client<typeof OfflineService>;
  /** Metadata as a Granary service calls it (the records only services may write). */
  readonly asService: Client<typeof MetadataService>;
  readonly addresses: { readonly metadata: string; readonly online: string; readonly offline: string };
  /** Stops the services (offline first) and drops the database. */
  stop(): Promise<void>;
}

export interface OfflineStackOptions {
  name: string;
  dataDir: string;
  keys: TestKeys;
  logLevel?: LogLevel;
  /**
   * More environment for all three services (the stack's own ports, addresses and paths win) (for example the write log's
   * GRANARY_NATS_URL, GRANARY_NATS_STREAM and GRANARY_NATS_SUBJECT_PREFIX); none by default.
   */
  env?: Readonly<Record<string, string>>;
}

export async function startOfflineStack(options: OfflineStackOptions): Promise<OfflineStack> {
  const { dataDir, keys } = options;
  const env = options.env ?? {};
  const db = await createTestDatabase(options.name);
  const logger = createLogger({ level: options.logLevel ?? "warn", service: "test" });
  const services: RunningService[] = [];
  const stop = async () => {
    for (const s of [...services].reverse()) await s.stop();
    await db.drop();
  };
  try {
    const metadata = await startMetadataService(
      loadMetadataConfig({ ...keys.env, ...env, GRANARY_METADATA_PORT: "0", GRANARY_DATA_DIR: dataDir, DATABASE_URL: db.url }),
      logger,
    );
    services.push(metadata);
    const online = await startOnlineService(
      loadOnlineConfig({ ...keys.env, ...env, GRANARY_ONLINE_PORT: "0", GRANARY_DATA_DIR: dataDir, GRANARY_METADATA_ADDRESS: metadata.address }),
      logger,
    );
    services.push(online);
    const offline = await startOfflineService(
      loadOfflineConfig({
        ...keys.env,
        ...env,
        GRANARY_OFFLINE_PORT: "0",
        GRANARY_DATA_DIR: dataDir,
        GRANARY_METADATA_ADDRESS: metadata.address,
        GRANARY_ONLINE_ADDRESS: online.address,
        GRANARY_OFFLINE_DUCKDB_MEMORY: "256MB",
      }),
      logger,
    );
    services.push(offline);
    return {
      md: createServiceClient(MetadataService, metadata.address, { apiKey: keys.adminKey }),
      on: createServiceClient(OnlineService, online.address, { apiKey: keys.adminKey }),
      off: createServiceClient(OfflineService, offline.address, { apiKey: keys.adminKey }),
      asService: createServiceClient(MetadataService, metadata.address, { apiKey: keys.serviceKey }),
      addresses: { metadata: metadata.address, online: online.address, offline: offline.address },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
