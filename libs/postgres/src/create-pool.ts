import { Pool } from "pg";
import type { PostgresLogger } from "./postgres-logger.js";
import { boundQueriesByCallDeadline, STATEMENT_TIMEOUT_MS } from "./query-deadline.js";

export interface PoolOptions {
  /** postgres://user:password@host:port/database; parameters in the URL win over the defaults here. */
  url: string;
  /** Most connections the pool opens; 10 when unset. */
  max?: number;
  /** Shown in pg_stat_activity, so a DBA can tell which service holds a connection. */
  applicationName?: string;
  /** Schemas searched for unqualified names, such as the service's own schema; server default when unset. */
  searchPath?: readonly string[];
  /** Receives errors of idle connections; they are dropped silently when unset. */
  logger?: Pick<PostgresLogger, "warn">;
}

/**
 * A pg pool with the limits a service wants. Every statement runs under a 30 s statement_timeout and
 * a transaction left idle for a minute is ended by the server, so a stuck query or a leaked client
 * cannot hold locks forever; acquiring a connection gives up after 5 s instead of queueing forever.
 * Within a gRPC call, the wait for a connection and every query are bounded by the call's deadline
 * too (query-deadline.ts), so a stalled database ends the call with DEADLINE_EXCEEDED.
 */
export function createPool(options: PoolOptions): Pool {
  const pool = new Pool({
    connectionString: options.url,
    max: options.max ?? 10,
    application_name: options.applicationName,
    // Sent in the startup packet, so every connection has it before its first query.
    options: options.searchPath ? `-c search_path=${options.searchPath.map(quoteIdent).join(",")}` : undefined,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    statement_timeout: STATEMENT_TIMEOUT_MS,
    idle_in_transaction_session_timeout: 60_000,
    // A server or network path that vanished without closing the socket (failover, a dropped NAT
    // entry) is noticed by the kernel instead of leaving an idle connection looking healthy.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  });
  // An idle connection dropped by the server (restart, failover, idle timeout) is reported here;
  // without a listener, EventEmitter would throw and take the process down. The pool has already
  // discarded the client; the next query opens a new connection.
  pool.on("error", (err) => {
    // The message and SQLSTATE only: pg's errors can carry the whole client object.
    const code = (err as { code?: string }).code;
    options.logger?.warn({ err: { message: err.message, code } }, "idle PostgreSQL connection failed; the pool replaced it");
  });
  return boundQueriesByCallDeadline(pool);
}

function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain schema name: ${name}`);
  return name;
}
