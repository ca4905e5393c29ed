import type * as arrow from "apache-arrow";
import type { DuckConnection } from "./duck-connection.js";
import { ArrowBatchBuilder } from "./duck-to-arrow.js";

export interface BatchStream {
  readonly schema: arrow.Schema;
  readonly batches: AsyncIterable<arrow.RecordBatch>;
}

/**
 * A query's result as Arrow record batches of about `rowsPerBatch` rows, built from DuckDB's
 * chunks as they arrive (the query keeps running while a batch is converted and sent).
 */
export async function queryBatches(
  connection: DuckConnection,
  sql: string,
  rows: number | ((schema: arrow.Schema) => number),
  signal?: AbortSignal,
): Promise<BatchStream> {
  const stream = await connection.stream(sql, signal);
  const probe = new ArrowBatchBuilder(stream.names, stream.types, 0);
  const rowsPerBatch = typeof rows === "number" ? rows : rows(probe.schema);
  const builder = new ArrowBatchBuilder(stream.names, stream.types, rowsPerBatch + 2048);
  async function* batches(): AsyncGenerator<arrow.RecordBatch> {
    for await (const chunk of stream.chunks) {
      builder.append(chunk);
      if (builder.length >= rowsPerBatch) yield builder.flush();
    }
    if (builder.length > 0) yield builder.flush();
  }
  return { schema: builder.schema, batches: batches() };
}

/** Rows per batch so a batch of this schema stays near `bytes` (exactly within it when every column is fixed-width). */
export function rowsForBytes(schema: arrow.Schema, bytes: number, max = 65_536, min = 256): number {
  let width = 0;
  // Each column's values and its validity bitmap (an eighth of a byte a row).
  for (const f of schema.fields) width += estimatedWidth(f.type) + 0.125;
  return Math.max(min, Math.min(max, Math.floor(bytes / width)));
}

function estimatedWidth(type: arrow.DataType): number {
  const ArrayType = (type as { ArrayType?: { BYTES_PER_ELEMENT?: number } }).ArrayType;
  if (type.children?.length) return 8 + 8 * estimatedWidth(type.children[0]!.type);
  if (type.typeId === 5 || type.typeId === 4) return 32; // Utf8, Binary
  return ArrayType?.BYTES_PER_ELEMENT ?? 8;
}
