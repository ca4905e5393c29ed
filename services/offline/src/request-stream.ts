import { InvalidArgumentError } from "@granary/errors";
import type { ArrowChunk } from "@granary/proto/types";
import { IpcFraming } from "./arrow/ipc-framing.js";

/** A client stream whose first message is a header (or query) and whose others carry Arrow chunks. */
export interface HeadedStream<H> {
  readonly header: H;
  /** The IPC bytes of the remaining messages, in order. */
  readonly chunks: AsyncIterable<Uint8Array>;
}

type Oneof = { readonly message: { readonly case: string | undefined; readonly value?: unknown } };

/**
 * Splits a client stream into its header (the first message, which must be of case `headerCase`)
 * and the Arrow bytes of the rest (each of case `chunkCase`).
 */
export async function headedStream<H>(requests: AsyncIterable<Oneof>, headerCase: string, chunkCase: string, what: string): Promise<HeadedStream<H>> {
  const it = requests[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done || first.value.message.case !== headerCase) {
    throw new InvalidArgumentError(`the first message of ${what} must be the ${headerCase}`, { field: headerCase });
  }
  const header = first.value.message.value as H;
  // The server runtime ends a bidirectional call when its request stream is read to the end, which
  // would drop the responses still to come. So reading stops at the Arrow stream's end-of-stream
  // marker, never asking for the (empty) rest of the request stream.
  const framing = new IpcFraming();
  async function* chunks(): AsyncGenerator<Uint8Array> {
    while (!framing.ended) {
      const next = await it.next();
      if (next.done) return;
      if (next.value.message.case !== chunkCase) {
        throw new InvalidArgumentError(`only the first message of ${what} may be the ${headerCase}; the others carry ${chunkCase}`, { field: chunkCase });
      }
      const bytes = (next.value.message.value as ArrowChunk).ipc;
      if (bytes.byteLength === 0) continue;
      framing.push(bytes);
      yield bytes;
    }
  }
  return { header, chunks: chunks() };
}
