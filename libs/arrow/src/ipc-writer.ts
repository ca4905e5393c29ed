import * as arrow from "apache-arrow";

/**
 * An Arrow IPC stream cut into messages of at most `messageBytes`: apache-arrow's writer emits
 * many small pieces (metadata, each buffer, padding); they are copied, in order, into fixed-size
 * message buffers, and every full buffer is handed out. Concatenated, the messages are one IPC
 * stream (schema, record batches, end-of-stream marker).
 */
export class IpcMessageWriter {
  readonly #messageBytes: number;
  readonly #ready: Uint8Array[] = [];
  #current: Uint8Array;
  #used = 0;
  readonly #writer: CollectingWriter;

  constructor(schema: arrow.Schema, messageBytes: number) {
    this.#messageBytes = messageBytes;
    this.#current = new Uint8Array(messageBytes);
    this.#writer = new CollectingWriter((bytes) => this.#push(bytes));
    this.#writer.reset(undefined, schema);
  }

  /** Encodes a batch; returns the messages that are now full. */
  write(batch: arrow.RecordBatch): Uint8Array[] {
    this.#writer.write(batch);
    return this.#ready.splice(0);
  }

  /** Ends the stream; returns the remaining messages. */
  finish(): Uint8Array[] {
    this.#writer.finish();
    if (this.#used > 0) {
      this.#ready.push(this.#current.subarray(0, this.#used));
      this.#current = new Uint8Array(0);
      this.#used = 0;
    }
    return this.#ready.splice(0);
  }

  #push(bytes: Uint8Array): void {
    let offset = 0;
    while (offset < bytes.byteLength) {
      const n = Math.min(bytes.byteLength - offset, this.#messageBytes - this.#used);
      this.#current.set(bytes.subarray(offset, offset + n), this.#used);
      this.#used += n;
      offset += n;
      if (this.#used === this.#messageBytes) {
        this.#ready.push(this.#current);
        this.#current = new Uint8Array(this.#messageBytes);
        this.#used = 0;
      }
    }
  }
}

/** A stream writer whose bytes go to a callback synchronously instead of an async queue. */
class CollectingWriter extends arrow.RecordBatchStreamWriter {
  readonly #sink: (bytes: Uint8Array) => void;

  constructor(sink: (bytes: Uint8Array) => void) {
    super();
    this.#sink = sink;
  }

  protected override _write(chunk: ArrayBufferView): this {
    if (this._started && chunk.byteLength > 0) {
      this.#sink(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      this._position += chunk.byteLength;
    }
    return this;
  }
}

/** One complete IPC stream of a few batches, for small payloads (the online push, tests). */
export function ipcBytes(batches: readonly arrow.RecordBatch[], schema: arrow.Schema): Uint8Array {
  const writer = new arrow.RecordBatchStreamWriter();
  writer.reset(undefined, schema);
  for (const b of batches) writer.write(b);
  return writer.finish().toUint8Array(true);
}
