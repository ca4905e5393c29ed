import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { CatalogueCache } from "@granary/catalogue-cache";
import { createServiceClient } from "@granary/service-clients";
import { serviceClientTls } from "@granary/config";
import { guardDatabase, openServiceDatabase } from "@granary/postgres";
import { MetadataService } from "@granary/proto/metadata";
import { RegistryService } from "@granary/proto/registry";
import {
  configurePageTokenKey,
  createRemoteAccess,
  createServer,
  defineService,
  serviceKeyOf,
  translateHandlerErrors,
  type RunningService,
} from "@granary/server";
import type { Logger } from "@granary/telemetry";
import type { RegistryConfig } from "./config.js";
import { startJanitor, sweep } from "./janitor.js";
import { createRegistryHandlers } from "./registry-service.js";
import { createFsBlobStore } from "./store/fs-blob-store.js";
import { createMetadataLineage } from "./upstream/metadata-lineage.js";
import { createMetadataModelRecords } from "./upstream/metadata-model-records.js";
import type { ModelRecords } from "./upstream/model-records.js";
import { REGISTRY_MIGRATIONS, REGISTRY_SCHEMA } from "./store/migrations.js";

export interface RegistryStartOptions {
  /** A PostgreSQL already chosen by the caller (`npm start` shares one embedded server). */
  databaseUrl?: string;
  /**
   * Where models are recorded so DeleteProject refuses their project; by default the metadata
   * service at GRANARY_METADATA_ADDRESS. Tests of the registry alone pass one in memory.
   */
  records?: ModelRecords;
}

/** How often abandoned uploads and unreferenced blobs are looked for after the sweep at start. */
const SWEEP_INTERVAL_MS = 10 * 60_000;
/** A metadata call (checking a feature view, recording lineage) that takes longer fails. */
const METADATA_TIMEOUT_MS = 10_000;

/**
 * Prepares the blob root, connects to PostgreSQL and migrates, clears what interrupted uploads left
 * behind, then serves; NOT_SERVING whenever PostgreSQL stops answering, SERVING again when it is
 * back.
 */
export async function startRegistryService(config: RegistryConfig, logger: Logger, options: RegistryStartOptions = {}): Promise<RunningService> {
  const log = logger.child({ component: "registry" });
  await mkdir(config.blobRoot, { recursive: true });
  const database = await openServiceDatabase({
    databaseUrl: options.databaseUrl ?? config.database.url,
    embeddedDataDir: join(config.common.dataDir, "registry"),
    poolSize: config.database.poolSize,
    applicationName: "granary-registry",
    schema: REGISTRY_SCHEMA,
    migrations: REGISTRY_MIGRATIONS,
    logger: log,
  });
  const blobs = createFsBlobStore(config.blobRoot);
  const serviceKey = serviceKeyOf(config.common.auth);
  configurePageTokenKey(serviceKey);
  const metadata = createServiceClient(MetadataService, config.metadataAddress, {
    defaultTimeoutMs: METADATA_TIMEOUT_MS,
    apiKey: serviceKey,
    tls: serviceClientTls(config.server),
  });
  const records = options.records ?? createMetadataModelRecords(metadata);
  const janitorOptions = { pool: database.pool, blobs, logger: log, uploadTimeoutMs: config.uploadTimeoutMs, records };
  try {
    const swept = await sweep(janitorOptions, true);
    if (swept.temporaryFiles + swept.versions + swept.blobs > 0) log.info(swept, "removed what interrupted uploads left behind");
  } catch (err) {
    await database.close();
    throw err;
  }
  const janitor = startJanitor(janitorOptions, SWEEP_INTERVAL_MS);
  // Followed for key revocations and for roles' lookups; the registry's own data is in PostgreSQL.
  const catalogue: CatalogueCache = new CatalogueCache(
    createServiceClient(MetadataService, config.metadataAddress, { apiKey: serviceKey, tls: serviceClientTls(config.server) }),
    {
      logger: log,
      onChange: (change) => remote.onChange(change),
    },
  );
  const remote = createRemoteAccess({ auth: config.common.auth, serviceKey, service: "registry", metadata, lookups: catalogue, logger: log });
  const handlers = createRegistryHandlers({
    pool: database.pool,
    blobs,
    lineage: createMetadataLineage(metadata),
    records,
    maxArtifactBytes: config.maxArtifactBytes,
    logger: log,
  });
  let server: ReturnType<typeof createServer> | undefined;
  const guard = guardDatabase(database.pool, { logger: log, onChange: (up) => server?.setServing(up) });
  server = createServer({
    name: "registry",
    config: config.server,
    logger: log,
    access: remote.access,
    services: [defineService(RegistryService, translateHandlerErrors(handlers, guard.translate))],
  });
  const close = async () => {
    guard.stop();
    await catalogue.close();
    await remote.close();
    await janitor.stop();
    await database.close();
  };
  try {
    await server.start();
  } catch (err) {
    await close();
    throw err;
  }
  catalogue.start();
  server.setServing(true);
  log.info({ address: server.address, blobRoot: config.blobRoot }, "registry service listening");
  return {
    name: "registry",
    address: server.address,
    httpAddress: server.httpAddress,
    async stop() {
      await server.shutdown();
      await close();
    },
  };
}
