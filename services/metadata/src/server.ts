import { join } from "node:path";
import { guardDatabase, openServiceDatabase } from "@granary/postgres";
import { MetadataService } from "@granary/proto/metadata";
import { configurePageTokenKey, createServer, defineService, serviceKeyOf, translateHandlerErrors, type RunningService } from "@granary/server";
import type { Logger } from "@granary/telemetry";
import { bootstrapAdmin } from "./access/bootstrap-admin.js";
import { createMetadataAccess, type MetadataAccess } from "./access/metadata-access.js";
import type { MetadataConfig } from "./config.js";
import { createMetadataHandlers } from "./metadata-service.js";
import { ChangeFeed } from "./store/change-feed.js";
import { backfillResolvedViews } from "./store/feature-views-store.js";
import { METADATA_MIGRATIONS, METADATA_SCHEMA } from "./store/migrations.js";

export interface MetadataStartOptions {
  /** A PostgreSQL already chosen by the caller (`npm start` shares one embedded server). */
  databaseUrl?: string;
}

/**
 * Connects to PostgreSQL and migrates, then serves; SERVING once the schema is current, NOT_SERVING
 * whenever PostgreSQL stops answering, SERVING again when it is back.
 */
export async function startMetadataService(config: MetadataConfig, logger: Logger, options: MetadataStartOptions = {}): Promise<RunningService> {
  const log = logger.child({ component: "metadata" });
  const database = await openServiceDatabase({
    databaseUrl: options.databaseUrl ?? config.database.url,
    embeddedDataDir: join(config.common.dataDir, "metadata"),
    poolSize: config.database.poolSize,
    applicationName: "granary-metadata",
    schema: METADATA_SCHEMA,
    migrations: METADATA_MIGRATIONS,
    logger: log,
  });
  const changes = new ChangeFeed(database.pool, log);
  await changes.start();
  let server: ReturnType<typeof createServer> | undefined;
  const guard = guardDatabase(database.pool, { logger: log, onChange: (up) => server?.setServing(up) });
  let access: MetadataAccess | undefined;
  const close = async () => {
    guard.stop();
    await access?.close();
    await changes.close();
    await database.close();
  };
  try {
    if (config.common.auth.enabled)
      await bootstrapAdmin(database.pool, { bootstrapKey: config.admin.bootstrapKey, adminKeyFile: config.admin.keyFile, logger: log });
    configurePageTokenKey(serviceKeyOf(config.common.auth));
    access = await createMetadataAccess({ pool: database.pool, changes, auth: config.common.auth, logger: log, translate: guard.translate });
    const filled = await backfillResolvedViews(database.pool);
    if (filled > 0) log.info({ views: filled }, "resolved feature views stored before views were resolved");
  } catch (err) {
    await close();
    throw err;
  }
  const draining = new AbortController();
  const handlers = createMetadataHandlers({ pool: database.pool, changes, drainSignal: draining.signal, onAccessChange: access.onChange });
  server = createServer({
    name: "metadata",
    config: config.server,
    logger: log,
    access: access.access,
    services: [defineService(MetadataService, translateHandlerErrors(handlers, guard.translate))],
  });
  try {
    await server.start();
  } catch (err) {
    await close();
    throw err;
  }
  server.setServing(true);
  log.info({ address: server.address }, "metadata service listening");
  return {
    name: "metadata",
    address: server.address,
    httpAddress: server.httpAddress,
    async stop() {
      draining.abort();
      await server.shutdown();
      await close();
    },
  };
}
