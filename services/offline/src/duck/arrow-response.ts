import duckdb from "@duckdb/node-bindings";
import * as arrow from "apache-arrow";
import { metrics } from "@opentelemetry/api";
import { lazily } from "@granary/telemetry";
import type { DuckEngine } from "./duckdb-engine.js";
import type { DuckConnection } from "./duck-connection.js";
import { ArrowBatchBuilder } from "./duck-to-arrow.js";
import { IpcFrameWriter } from "./ipc-frames.js";
import { rowsForBytes } from "./query-batches.js";

/** Changes record batches on their way out (on-demand features, transformations). */
export interface BatchTransform {
  schema(input: arrow.Schema): arrow.Schema;
  apply(batch: arrow.RecordBatch): arrow.RecordBatch;
}

/** What a streamed result is counted under: catalogue names only (never values from the rows). */
export interface StreamLabels {
  readonly project: string;
  /** The feature group (Read, ReadChanges) or feature view (training data, batch data, datasets) streamed. */
  readonly source: string;
  readonly operation: "read" | "read_changes" | "training_data" | "training_dataset";
}

const streamed = lazily(() => {
  const meter = metrics.getMeter("granary.offline");
  return {
    rows: meter.createCounter("granary.offline.stream.rows", {
      unit: "{row}",
      description: "Rows streamed to clients (Read, ReadChanges, training and batch data)",
    }),
    bytes: meter.createCounter("granary.offline.stream.bytes", { unit: "By", description: "Arrow IPC bytes streamed to clients" }),
  };
});

/** Rows a batch holds at most, however narrow its rows. */
const MAX_BATCH_ROWS = 65_536;
/** Rows a batch holds at least, however wide its rows (a wider batch is cut across messages). */
const MIN_BATCH_ROWS = 64;

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
  labels: StreamLabels,
  transform?: BatchTransform,
): AsyncGenerator<Uint8Array> {
  const connection = await engine.acquire(signal);
  try {
    yield* streamOn(connection, sql, messageBytes, signal, labels, transform);
  } finally {
    await engine.release(connection);
  }
}

/**
 * streamQuery on a connection the caller holds (after preparing temporary tables on it).
 *
 * Each record batch is sized to fill one message, so it reaches the client whole (see
 * IpcFrameWriter): the rows per batch follow from the output schema's widths, corrected by the
 * size of each batch written when the rows' widths vary (strings, lists). DuckDB computes the next
 * chunk while this one is converted and sent; the batch builder's buffers are reused, since a
 * batch is written out before the next chunk is appended.
 */
export async function* streamOn(
  connection: DuckConnection,
  sql: string,
  messageBytes: number,
  signal: AbortSignal,
  labels: StreamLabels,
  transform?: BatchTransform,
): AsyncGenerator<Uint8Array> {
  const attributes = { "granary.project": labels.project, "granary.source": labels.source, "granary.operation": labels.operation };
  let sentRows = 0;
  let sentBytes = 0;
  try {
    for await (const message of messagesOf(connection, sql, messageBytes, signal, transform, (n) => (sentRows += n))) {
      sentBytes += message.byteLength;
      yield message;
    }
  } finally {
    // Counted as sent, also when the client went away midway: what left is what it cost.
    const { rows, bytes } = streamed();
    rows.add(sentRows, attributes);
    bytes.add(sentBytes, attributes);
  }
}

async function* messagesOf(
  connection: DuckConnection,
  sql: string,
  messageBytes: number,
  signal: AbortSignal,
  transform: BatchTransform | undefined,
  counted: (rows: number) => void,
): AsyncGenerator<Uint8Array> {
  const stream = await connection.stream(sql, signal);
  const probe = new ArrowBatchBuilder(stream.names, stream.types, 0);
  const schema = transform ? transform.schema(probe.schema) : probe.schema;
  const writer = new IpcFrameWriter(schema, messageBytes);
  const bounded = (n: number) => Math.max(MIN_BATCH_ROWS, Math.min(MAX_BATCH_ROWS, Math.floor(n / 8) * 8));
  // A batch's metadata takes 16 bytes a node and a buffer, and about 200 more.
  let rows = bounded(rowsForBytes(schema, messageBytes - 256 - 48 * countFields(schema.fields), MAX_BATCH_ROWS, 0));
  // Rows of varying width (strings, lists) are estimated from the last batch, with room to vary.
  const fill = fixedWidth(schema.fields) ? 1 : 0.9;
  const builder = new ArrowBatchBuilder(stream.names, stream.types, rows, { reuse: true });
  const write = (): Uint8Array[] => {
    const n = builder.length;
    counted(n);
    const messages = writer.write(transform ? transform.apply(builder.flush()) : builder.flush());
    // A full batch that overflowed its message or filled less than half of it sizes the next one.
    const { metadata, body } = writer.lastBatch;
    if (n === rows && (metadata + body > messageBytes || metadata + body < messageBytes / 2)) {
      rows = bounded((n * (messageBytes - metadata) * fill) / Math.max(1, body));
    }
    return messages;
  };
  for await (const chunk of stream.chunks) {
    const size = duckdb.data_chunk_get_size(chunk);
    for (let from = 0; from < size;) {
      const n = Math.min(size - from, rows - builder.length);
      builder.appendRows(chunk, from, n);
      from += n;
      if (builder.length >= rows) yield* write();
    }
  }
  if (builder.length > 0) yield* write();
  yield* writer.finish();
}

function fixedWidth(fields: readonly arrow.Field[]): boolean {
  return fields.every((f) => !arrow.DataType.isUtf8(f.type) && !arrow.DataType.isBinary(f.type) && !arrow.DataType.isList(f.type));
}

function countFields(fields: readonly arrow.Field[]): number {
  let n = 0;
  for (const f of fields) n += 1 + countFields(f.type.children ?? []);
  return n;
}
