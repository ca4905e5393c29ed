import * as arrow from "apache-arrow";
import { IpcMessageWriter } from "@granary/arrow";
import { withoutDictionaries } from "./dictionary-columns.js";

const MESSAGE_BYTES = 1024 * 1024;

/** What an insert has sent so far, for progress bars. */
export interface InsertProgress {
  readonly rowsSent: number;
  readonly bytesSent: number;
  /** Rows in all, when known up front (a table or rows); undefined for a stream of batches. */
  readonly totalRows: number | undefined;
}

/**
 * Record batches as the ArrowChunk payloads of a client stream: one IPC stream (schema, batches,
 * end-of-stream marker) cut into messages of about 1 MiB, well under gRPC's 4 MiB default. Progress
 * is reported after each batch is encoded. Dictionary-encoded columns are sent decoded: the services
 * take plain columns only.
 */
export async function* ipcPayloads(
  batches: AsyncIterable<arrow.RecordBatch> | Iterable<arrow.RecordBatch>,
  onProgress?: (p: InsertProgress) => void,
  totalRows?: number,
): AsyncGenerator<Uint8Array> {
  let writer: IpcMessageWriter | undefined;
  let rowsSent = 0;
  let bytesSent = 0;
  for await (const input of batches as AsyncIterable<arrow.RecordBatch>) {
    const batch = withoutDictionaries(input);
    writer ??= new IpcMessageWriter(batch.schema, MESSAGE_BYTES);
    for (const message of writer.write(batch)) {
      bytesSent += message.byteLength;
      yield message;
    }
    rowsSent += batch.numRows;
    onProgress?.({ rowsSent, bytesSent, totalRows });
  }
  if (!writer) throw new TypeError("nothing to send: the input has no record batches");
  for (const message of writer.finish()) {
    bytesSent += message.byteLength;
    yield message;
  }
  onProgress?.({ rowsSent, bytesSent, totalRows });
}

/** A table cut into batches of at most `rows` rows (inserts report progress per batch). */
export function* batchesOf(table: arrow.Table, rows = 65_536): Generator<arrow.RecordBatch> {
  for (const batch of table.batches) {
    for (let start = 0; start < batch.numRows; start += rows) yield batch.slice(start, Math.min(batch.numRows, start + rows));
  }
}

/** The record batches of a server stream of ArrowChunk messages, as they arrive. */
export async function* recordBatchesOf(responses: AsyncIterable<{ chunk?: { ipc: Uint8Array } | undefined }>): AsyncGenerator<arrow.RecordBatch> {
  async function* bytes(): AsyncGenerator<Uint8Array> {
    for await (const r of responses) if (r.chunk && r.chunk.ipc.byteLength > 0) yield r.chunk.ipc;
  }
  const reader = await arrow.RecordBatchReader.from(bytes());
  for await (const batch of reader) yield batch;
}

/** A whole server stream of ArrowChunk messages as one table (an empty stream gives an empty table). */
export async function tableOf(responses: AsyncIterable<{ chunk?: { ipc: Uint8Array } | undefined }>): Promise<arrow.Table> {
  const parts: Uint8Array[] = [];
  for await (const r of responses) if (r.chunk) parts.push(r.chunk.ipc);
  if (parts.length === 0) return new arrow.Table();
  return arrow.tableFromIPC(parts);
}
