import { setTimeout as delay } from "node:timers/promises";
import type { Pool } from "pg";
import { createPool } from "./create-pool.js";
import type { EmbeddedPostgres } from "./embedded-postgres.js";
import type { PostgresLogger } from "./postgres-logger.js";
import { resolveDatabase } from "./resolve-database.js";
import { runMigrations, type Migration } from "./run-migrations.js";

export interface ServiceDatabaseOptions {
  /** An external server; when unset, an embedded one is started under `embeddedDataDir`. */
  databaseUrl?: string | undefined;
  /** The service's own directory; the embedded cluster lives in its `postgres` subdirectory. */
  embeddedDataDir: string;
  poolSize?: number;
  applicationName?: string;
  /** The schema the service owns, and the migrations that build it. */
  schema: string;
  migrations: readonly Migration[];
  logger: PostgresLogger;
}

export interface ServiceDatabase {
  readonly pool: Pool;
  readonly url: string;
  readonly embedded: EmbeddedPostgres | undefined;
  /** Ends the pool, then stops the embedded server if this call started one. Idempotent. */
  close(): Promise<void>;
}

/**
 * What a service does with PostgreSQL at start, in one call: pick the database (external or
 * embedded), open a pool, migrate its schema. When any step fails, what was already opened is
 * closed again before the error is rethrown, so a failed start leaves no server behind.
 */
export async function openServiceDatabase(options: ServiceDatabaseOptions): Promise<ServiceDatabase> {
  const database = await resolveDatabase({
    databaseUrl: options.databaseUrl,
    dataDir: options.embeddedDataDir,
    logger: options.logger,
  });
  const pool = createPool({
    url: database.url,
    max: options.poolSize,
    applicationName: options.applicationName,
    // The service's SQL names its tables unqualified, as its migrations do.
    searchPath: [options.schema, "public"],
    logger: options.logger,
  });
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= endPool(pool, options.logger).finally(() => database.stop());
    return closing;
  };
  try {
    const applied = await runMigrations(pool, { schema: options.schema, migrations: options.migrations });
    if (applied.length > 0) options.logger.info({ schema: options.schema, applied }, "applied database migrations");
  } catch (err) {
    await close();
    throw err;
  }
  return { pool, url: database.url, embedded: database.embedded, close };
}

// pool.end() waits for every connection's goodbye; one to a server or path that stopped answering
// never says it, and a stopping service would wait for it forever.
const POOL_END_TIMEOUT_MS = 5_000;

async function endPool(pool: Pool, logger: PostgresLogger): Promise<void> {
  const ended = pool.end().then(() => true);
  const gaveUp = delay(POOL_END_TIMEOUT_MS, false, { ref: false });
  if (!(await Promise.race([ended, gaveUp]))) {
    logger.warn({ timeoutMs: POOL_END_TIMEOUT_MS }, "PostgreSQL connections did not close in time; leaving them behind");
  }
}
