import type * as arrow from "apache-arrow";
import type { DuckEngine } from "./duckdb-engine.js";
import type { DuckConnection } from "./duck-connection.js";
import { IpcMessageWriter } from "@granary/arrow";
import { queryBatches, rowsForBytes } from "./query-batches.js";

/** Changes record batches on their way out (on-demand features, transformations). */
export interface BatchTransform {
  schema(input: arrow.Schema): arrow.Schema;
  apply(batch: arrow.RecordBatch): arrow.RecordBatch;
}

/** Bytes an Arrow batch aims at: big enough to amortise per-batch costs, small enough for memory. */
const BATCH_BYTES = 8 * 1024 * 1024;

/**
 * A query's result as an Arrow IPC stream cut into messages of `messageBytes`: the schema goes
 * first, then batches as DuckDB produces them; nothing waits for the whole result. The query holds
 * one pooled connection until the stream ends or the signal aborts (which interrupts it).
 */
export async function* streamQuery(
  engine: DuckEngine,
  sql: string,
  messageBytes: number,
  signal: AbortSignal,
  transform?: BatchTransform,
): AsyncGenerator<Uint8Array> {
  const connection = await engine.acquire(signal);
  try {
    yield* streamOn(connection, sql, messageBytes, signal, transform);
  } finally {
    await engine.release(connection);
  }
}

/** streamQuery on a connection the caller holds (after preparing temporary tables on it). */
export async function* streamOn(
  connection: DuckConnection,
  sql: string,
  messageBytes: number,
  signal: AbortSignal,
  transform?: BatchTransform,
): AsyncGenerator<Uint8Array> {
  const { schema, batches } = await queryBatches(connection, sql, (s) => rowsForBytes(s, BATCH_BYTES), signal);
  const writer = new IpcMessageWriter(transform ? transform.schema(schema) : schema, messageBytes);
  for await (const batch of batches) {
    for (const message of writer.write(transform ? transform.apply(batch) : batch)) yield message;
  }
  yield* writer.finish();
}
