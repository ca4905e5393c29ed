export { createPool, type PoolOptions } from "./create-pool.js";
export {
  startEmbeddedPostgres,
  type EmbeddedPostgres,
  type EmbeddedPostgresOptions,
} from "./embedded-postgres.js";
export { findFreePort } from "./free-port.js";
export { isDatabaseReachable } from "./is-database-reachable.js";
export { openServiceDatabase, type ServiceDatabase, type ServiceDatabaseOptions } from "./open-service-database.js";
export type { PostgresLogger } from "./postgres-logger.js";
export { resolveDatabase, type ResolveDatabaseOptions, type ResolvedDatabase } from "./resolve-database.js";
export { runMigrations, type Migration, type RunMigrationsOptions } from "./run-migrations.js";
export { isUnavailable, translatePgError } from "./translate-pg-error.js";
export { QueryDeadlineError } from "./query-deadline.js";
export { withTransaction, type IsolationLevel, type TransactionOptions } from "./with-transaction.js";
export { monitorDatabase, type DatabaseMonitor, type DatabaseMonitorOptions } from "./database-monitor.js";
export { loadMigrations } from "./load-migrations.js";
export { guardDatabase, type DatabaseGuard } from "./database-guard.js";
