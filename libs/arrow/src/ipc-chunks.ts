import * as arrow from "apache-arrow";

/**
 * Client-side helpers: a table as the ArrowChunk payloads of a call (one IPC stream cut into
 * pieces of at most `bytes`), and a call's ArrowChunk responses read back into a table.
 */
export function* arrowPayloads(table: arrow.Table, bytes = 1024 * 1024): Generator<Uint8Array> {
  const ipc = arrow.tableToIPC(table, "stream");
  for (let offset = 0; offset < ipc.byteLength; offset += bytes) yield ipc.subarray(offset, Math.min(ipc.byteLength, offset + bytes));
}

export async function tableFromChunks(responses: AsyncIterable<{ chunk?: { ipc: Uint8Array } }>): Promise<arrow.Table> {
  const parts: Uint8Array[] = [];
  for await (const r of responses) if (r.chunk) parts.push(r.chunk.ipc);
  return arrow.tableFromIPC(parts);
}
