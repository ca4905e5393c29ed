import type { Pool, PoolClient } from "pg";
import { QUERY_TIMEOUT_MESSAGE, QueryDeadlineError } from "./query-deadline.js";

export type IsolationLevel = "read committed" | "repeatable read" | "serializable";

export interface TransactionOptions {
  /** The server's default (read committed) when unset. */
  isolation?: IsolationLevel;
}

const BEGIN: Readonly<Record<IsolationLevel, string>> = {
  "read committed": "BEGIN ISOLATION LEVEL READ COMMITTED",
  "repeatable read": "BEGIN ISOLATION LEVEL REPEATABLE READ",
  serializable: "BEGIN ISOLATION LEVEL SERIALIZABLE",
};

/**
 * Runs `fn` in a transaction on one pooled client: COMMIT when it resolves, ROLLBACK when it throws,
 * and the error is rethrown untouched (pass it to translatePgError). A client whose connection broke
 * is destroyed rather than returned, so the next caller does not inherit a dead socket or a
 * half-finished transaction.
 */
export async function withTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
  const begin = options.isolation === undefined ? "BEGIN" : BEGIN[options.isolation];
  if (begin === undefined) throw new Error(`unknown isolation level: ${String(options.isolation)}`);
  const client = await pool.connect();
  let broken: Error | undefined;
  // The pool stops listening to a client while it is checked out; a connection dropped between two
  // queries would emit an unhandled 'error' and crash the process.
  const onError = (err: Error): void => {
    broken = err;
  };
  client.on("error", onError);
  try {
    await client.query(begin);
    const result = await fn(client);
    await client.query("COMMIT");
    return result;
  } catch (err) {
    // A query that timed out is still running on this connection: a ROLLBACK would only queue
    // behind it. The connection is closed instead, which ends the transaction on the server.
    if (err instanceof QueryDeadlineError || (err instanceof Error && err.message === QUERY_TIMEOUT_MESSAGE)) {
      broken ??= err;
      throw err;
    }
    try {
      await client.query("ROLLBACK");
    } catch (rollbackError) {
      broken ??= rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
    }
    throw err;
  } finally {
    client.removeListener("error", onError);
    client.release(broken);
  }
}
