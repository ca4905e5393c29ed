import { InvalidArgumentError } from "@granary/errors";
import type { ArrowChunk } from "@granary/proto/types";
import { IpcFraming } from "./ipc-framing.js";

/** A client stream whose first message is a header (or query) and whose others carry Arrow chunks. */
export interface HeadedStream<H> {
  readonly header: H;
  /** The IPC bytes of the remaining messages, in order. */
  readonly chunks: AsyncIterable<Uint8Array>;
}

type Oneof = { readonly message: { readonly case: string | undefined; readonly value?: unknown } };

export interface HeadedStreamOptions {
  /**
   * A bidirectional call: reading stops at the end-of-stream marker (see below), so messages sent
   * after it go unseen. Otherwise the rest of the request stream is read before the last chunk is
   * handed on, and any Arrow bytes in it are refused.
   */
  readonly bidirectional?: boolean;
}

/**
 * Splits a client stream into its header (the first message, which must be of case `headerCase`)
 * and the Arrow bytes of the rest (each of case `chunkCase`), which must be one Arrow IPC stream
 * ending with its end-of-stream marker: a missing marker, a second schema or a second stream
 * appended are refused with INVALID_ARGUMENT rather than read in part.
 */
export async function headedStream<H>(
  requests: AsyncIterable<Oneof>,
  headerCase: string,
  chunkCase: string,
  what: string,
  options: HeadedStreamOptions = {},
): Promise<HeadedStream<H>> {
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
  let sent = false;
  async function nextBytes(): Promise<Uint8Array | undefined> {
    for (;;) {
      const next = await it.next();
      if (next.done) return undefined;
      if (next.value.message.case !== chunkCase) {
        throw new InvalidArgumentError(`only the first message of ${what} may be the ${headerCase}; the others carry ${chunkCase}`, { field: chunkCase });
      }
      const bytes = (next.value.message.value as ArrowChunk).ipc;
      if (bytes.byteLength > 0) return bytes;
    }
  }
  const refuse = (problem: string) => new InvalidArgumentError(`the Arrow stream of ${what} is refused: ${problem}`, { field: chunkCase });
  async function* chunks(): AsyncGenerator<Uint8Array> {
    while (!framing.ended) {
      const bytes = await nextBytes();
      if (bytes === undefined) {
        // No bytes at all is left to the reader ("carries no Arrow stream").
        if (sent) throw refuse("it does not end with Arrow's end-of-stream marker (truncated?)");
        return;
      }
      framing.push(bytes);
      if (framing.ended && !options.bidirectional) {
        // Read the rest now: the Arrow reader stops at the marker and would drop what follows.
        for (let more = await nextBytes(); more !== undefined; more = await nextBytes()) framing.push(more);
      }
      if (framing.problem) throw refuse(framing.problem);
      sent = true;
      yield bytes;
    }
  }
  return { header, chunks: chunks() };
}
