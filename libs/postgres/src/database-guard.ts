import type { Pool } from "pg";
import { monitorDatabase } from "./database-monitor.js";
import type { PostgresLogger } from "./postgres-logger.js";
import { isUnavailable, translatePgError } from "./translate-pg-error.js";

export interface DatabaseGuard {
  /** For a handler's error: driver errors become typed ones; a lost database triggers a probe. */
  translate(err: unknown): unknown;
  stop(): void;
}

/**
 * What a PostgreSQL-backed service puts between its handlers and the wire: pg errors translated
 * (unique violation → ALREADY_EXISTS, lost connection → UNAVAILABLE…) and the service's health
 * following the database (`onChange(false)` while it does not answer).
 */
export function guardDatabase(pool: Pool, options: { logger: Pick<PostgresLogger, "warn" | "info">; onChange: (up: boolean) => void }): DatabaseGuard {
  const monitor = monitorDatabase(pool, options);
  return {
    translate(err) {
      const translated = translatePgError(err);
      if (isUnavailable(translated)) monitor.reportFailure();
      return translated;
    },
    stop: () => monitor.stop(),
  };
}
