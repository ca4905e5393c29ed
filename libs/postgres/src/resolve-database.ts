import path from "node:path";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "./embedded-postgres.js";
import type { PostgresLogger } from "./postgres-logger.js";

export interface ResolveDatabaseOptions {
  /** An external server; when unset, an embedded one is started. */
  databaseUrl?: string | undefined;
  /** The service's data directory; the embedded cluster lives in its `postgres` subdirectory. */
  dataDir: string;
  logger: PostgresLogger;
}

export interface ResolvedDatabase {
  url: string;
  /** Set when this call started an embedded server. */
  embedded?: EmbeddedPostgres;
  /** Stops the embedded server, if any; an external database is left alone. Idempotent. */
  stop(): Promise<void>;
}

/**
 * The database a service should use: DATABASE_URL when configured, otherwise an embedded PostgreSQL
 * kept under the service's data directory, so a bare `npm start` works with nothing installed.
 */
export async function resolveDatabase(options: ResolveDatabaseOptions): Promise<ResolvedDatabase> {
  if (options.databaseUrl !== undefined && options.databaseUrl !== "") {
    // The URL may hold a password: log that it is external, never the URL.
    options.logger.info({ embedded: false }, "using external PostgreSQL");
    return { url: options.databaseUrl, stop: async () => {} };
  }
  const embedded = await startEmbeddedPostgres({
    dataDir: path.join(options.dataDir, "postgres"),
    logger: options.logger,
  });
  return { url: embedded.url, embedded, stop: () => embedded.stop() };
}
