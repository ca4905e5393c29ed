import { Code } from "@connectrpc/connect";
import { GranaryError } from "@granary/errors";
// The subpath only: the call's deadline, without loading the gRPC server into every pool user.
import { currentCallDeadline } from "@granary/server/call-deadline";
import type { Pool, PoolClient, QueryConfig } from "pg";

/** The pool's statement_timeout: the server cancels a statement running longer (SQLSTATE 57014). */
export const STATEMENT_TIMEOUT_MS = 30_000;

// A query of a call gives up on the client side no later than this, whatever the call's deadline:
// a little after statement_timeout, so a merely slow statement is cancelled by the server (keeping
// its connection) and only a connection that stopped answering is abandoned here.
const QUERY_TIMEOUT_CAP_MS = STATEMENT_TIMEOUT_MS + 2_000;

// pg's own message when query_timeout fires; translatePgError maps it to DEADLINE_EXCEEDED.
export const QUERY_TIMEOUT_MESSAGE = "Query read timeout";

/** A query, or the wait for a connection to run it on, outlived the gRPC call's deadline. */
export class QueryDeadlineError extends GranaryError {
  constructor(message = "the deadline was exceeded while waiting for the database", options?: { cause?: unknown }) {
    super(Code.DeadlineExceeded, message, options);
  }
}

/**
 * Bounds every query that runs for a gRPC call by what is left of the call's deadline (and by
 * QUERY_TIMEOUT_CAP_MS when the call has none), and the wait for a connection too, so a stalled
 * database or a stalled network path ends the call with DEADLINE_EXCEEDED instead of holding it and
 * a pooled connection forever. Queries outside any call (migrations, background loops) are left
 * to statement_timeout and TCP keepalive: migrations may legitimately run for minutes.
 *
 * Applied to the pool in place, so services keep calling `pool.query` and `pool.connect` as before.
 */
export function boundQueriesByCallDeadline(pool: Pool): Pool {
  const originalConnect = pool.connect as (...args: unknown[]) => unknown;
  const connect = (): Promise<PoolClient> => originalConnect.call(pool) as Promise<PoolClient>;
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  // Every client, the pool's own and those checked out for a transaction, times its queries out.
  pool.on("connect", (client) => boundClientQueries(client));

  Object.assign(pool, {
    connect: (...args: unknown[]): unknown =>
      // The callback form is how pg-pool's own query() acquires: leave it as it is.
      args.length > 0 ? originalConnect.apply(pool, args) : acquire(connect, remainingMs()),
    query: (...args: unknown[]): unknown => {
      const remaining = remainingMs();
      // The callback form and submittables (cursors, streams) keep pg's own behaviour.
      if (remaining === undefined || typeof args.at(-1) === "function" || isSubmittable(args[0])) return query(...args);
      return queryWithin(connect, remaining, args[0] as string | QueryConfig, args[1] as unknown[] | undefined);
    },
  });
  return pool;
}

/** Milliseconds the current call has left (capped); undefined outside a call. */
function remainingMs(): number | undefined {
  const call = currentCallDeadline();
  if (call === undefined) return undefined;
  const left = call.deadlineMs === undefined ? QUERY_TIMEOUT_CAP_MS : call.deadlineMs - Date.now();
  return Math.min(left, QUERY_TIMEOUT_CAP_MS);
}

/** pool.query with the connection wait and the query both bounded by the same deadline. */
async function queryWithin(connect: () => Promise<PoolClient>, remaining: number, text: string | QueryConfig, values: unknown[] | undefined): Promise<unknown> {
  const deadline = Date.now() + remaining;
  const client = await acquire(connect, remaining);
  let failure: Error | undefined;
  // A connection dropped while the query runs is reported here too; the query then fails with it.
  const onError = (err: Error): void => {
    failure = err;
  };
  client.on("error", onError);
  try {
    const left = deadline - Date.now();
    if (left <= 0) throw new QueryDeadlineError();
    return await client.query(withTimeout(text, left), values);
  } catch (err) {
    failure ??= err instanceof Error ? err : new Error(String(err));
    throw err;
  } finally {
    client.removeListener("error", onError);
    // As pg-pool does: a client whose query failed is discarded, never handed to the next caller
    // mid-query (a timed-out query is still running on it).
    client.release(failure);
  }
}

/** A pooled client, or QueryDeadlineError once `remaining` ms pass; a client that comes later goes back. */
async function acquire(connect: () => Promise<PoolClient>, remaining: number | undefined): Promise<PoolClient> {
  const pending = connect();
  if (remaining === undefined) return pending;
  const signal = currentCallDeadline()?.signal;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const givenUp = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new QueryDeadlineError()), Math.max(0, remaining));
    onAbort = () => reject(signal?.reason instanceof Error ? signal.reason : new QueryDeadlineError());
    if (signal?.aborted) onAbort();
    else signal?.addEventListener("abort", onAbort, { once: true });
  });
  // Settled after the race is decided (an abort in the same tick) it must not count as unhandled.
  givenUp.catch(() => {});
  try {
    return await Promise.race([pending, givenUp]);
  } catch (err) {
    pending.then(
      (client) => client.release(),
      () => {},
    );
    throw err;
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener("abort", onAbort);
  }
}

/** A checked-out client's queries (transactions) time out with the call they run for. */
function boundClientQueries(client: PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  Object.assign(client, {
    query: (...args: unknown[]): unknown => {
      const first = args[0];
      const remaining = remainingMs();
      if (remaining === undefined || isSubmittable(first) || hasTimeout(first)) return query(...args);
      if (remaining <= 0) {
        const err = new QueryDeadlineError();
        const callback = args.find((a) => typeof a === "function") as ((e: Error) => void) | undefined;
        if (callback) {
          process.nextTick(callback, err);
          return undefined;
        }
        return Promise.reject(err);
      }
      return query(withTimeout(first as string | QueryConfig, remaining), ...args.slice(1));
    },
  });
}

function withTimeout(text: string | QueryConfig, timeoutMs: number): QueryConfig & { query_timeout: number } {
  const config = typeof text === "string" ? { text } : text;
  return { ...config, query_timeout: Math.max(1, Math.ceil(timeoutMs)) };
}

function hasTimeout(config: unknown): boolean {
  return typeof config === "object" && config !== null && "query_timeout" in config;
}

function isSubmittable(config: unknown): boolean {
  return typeof config === "object" && config !== null && typeof (config as { submit?: unknown }).submit === "function";
}
