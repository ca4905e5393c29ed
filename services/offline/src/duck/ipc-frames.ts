import { ReadResponseSchema } from "@granary/proto/offline";
import { preEncoded } from "@granary/server";
import type * as arrow from "apache-arrow";
import { Message, RecordBatch as RecordBatchHeader } from "apache-arrow/ipc/metadata/message";
import { VectorAssembler } from "apache-arrow/visitor/vectorassembler";

/**
 * Room before the IPC bytes of a frame for the response message around them: `chunk` (field 1)
 * holding an ArrowChunk whose `ipc` (field 1) is the frame, as every Arrow response of the offline
 * service is laid out. Lengths are written as varints of fixed width (5 and 4 bytes: protobuf
 * readers accept padded varints), so the prefix is 11 bytes whatever the length: behind gRPC's
 * 5-byte message header that puts the IPC bytes at offset 16 of a client's message buffer, and
 * the record batch bodies 8-byte aligned there, which apache-arrow reads in place instead of
 * copying each one.
 */
const PREFIX = 11;
const EOS = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
const CONTINUATION = 0xffffffff;

interface Frame {
  /** The whole response message: prefix, then the IPC bytes. */
  readonly bytes: Uint8Array;
  /** Gives the frame's memory back to its writer once the bytes are sent (copied out). */
  readonly release: () => void;
}

/** Frames by the IPC bytes handed out, for the send path to find their response message. */
const frames = new WeakMap<Uint8Array, Frame>();

/**
 * The response message carrying IPC bytes (`{ chunk: { ipc } }`, the layout of every Arrow response
 * of the service). For bytes an IpcFrameWriter handed out it is pre-encoded around them in place,
 * so gRPC sends them without protobuf copying them twice, and the writer reuses their buffer once
 * they are sent; any other bytes go in a plain message.
 */
export function chunkResponse(ipc: Uint8Array): { chunk: { ipc: Uint8Array } } {
  const frame = frames.get(ipc);
  if (!frame) return { chunk: { ipc } };
  frames.delete(ipc);
  // ReadResponse stands for all of them: only a client in the same process decodes it, by field.
  return preEncoded(ReadResponseSchema, frame.bytes, frame.release) as unknown as { chunk: { ipc: Uint8Array } };
}

/**
 * An Arrow IPC stream (schema, record batches, end-of-stream marker) written straight into the
 * messages that carry it: each message is one buffer of at most `messageBytes` IPC bytes, with
 * room in front for its response framing (see chunkResponse). A record batch goes into the
 * current message if it fits, else starts the next one; only a batch larger than a message is cut
 * across messages. So a batch sized to a message arrives whole in one message, and its body is
 * copied once here (and once by gRPC) rather than through apache-arrow's writer pieces, a message
 * buffer and protobuf's writer.
 *
 * Buffers are reused only after the send path has released them (chunkResponse); bytes handed
 * to anyone else stay theirs.
 */
export class IpcFrameWriter {
  readonly #capacity: number;
  readonly #free: Uint8Array[] = [];
  readonly #ready: Uint8Array[] = [];
  #frame: Uint8Array;
  #used = 0;
  #lastBatch = { metadata: 0, body: 0 };

  constructor(schema: arrow.Schema, messageBytes: number) {
    this.#capacity = messageBytes;
    this.#frame = this.#newFrame();
    const meta = Message.encode(Message.from(schema));
    this.#putMessageHeader(meta, messageHeaderBytes(meta));
  }

  /** IPC bytes a message carries at most. */
  get messageBytes(): number {
    return this.#capacity;
  }

  /** The encoded size of the last batch written: its metadata (with the message header) and its body. */
  get lastBatch(): { readonly metadata: number; readonly body: number } {
    return this.#lastBatch;
  }

  /** Encodes a batch; returns the messages now complete (IPC bytes, in order). */
  write(batch: arrow.RecordBatch): Uint8Array[] {
    const { byteLength, nodes, bufferRegions, buffers, variadicBufferCounts } = VectorAssembler.assemble(batch);
    const header = new RecordBatchHeader(batch.numRows, nodes, bufferRegions, null, variadicBufferCounts);
    const meta = Message.encode(Message.from(header, byteLength));
    const metaBytes = messageHeaderBytes(meta);
    const total = metaBytes + byteLength;
    this.#lastBatch = { metadata: metaBytes, body: byteLength };
    if (this.#used > 0 && this.#used + total > this.#capacity) this.#emit();
    this.#putMessageHeader(meta, metaBytes);
    // The body as apache-arrow's writer lays it out: the non-empty buffers in order, each padded to 8.
    for (const buffer of buffers) {
      if (buffer.byteLength === 0) continue;
      this.#put(new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength));
      this.#zeros(padding(buffer.byteLength));
    }
    return this.#ready.splice(0);
  }

  /** Ends the stream; returns the remaining messages. */
  finish(): Uint8Array[] {
    this.#put(EOS);
    if (this.#used > 0) this.#emit();
    return this.#ready.splice(0);
  }

  #putMessageHeader(meta: Uint8Array, metaBytes: number): void {
    const head = new Uint8Array(8);
    const view = new DataView(head.buffer);
    view.setUint32(0, CONTINUATION, true);
    view.setInt32(4, metaBytes - 8, true);
    this.#put(head);
    this.#put(meta);
    this.#zeros(metaBytes - 8 - meta.byteLength);
  }

  #put(bytes: Uint8Array): void {
    let offset = 0;
    while (offset < bytes.byteLength) {
      const n = Math.min(bytes.byteLength - offset, this.#capacity - this.#used);
      this.#frame.set(offset === 0 && n === bytes.byteLength ? bytes : bytes.subarray(offset, offset + n), PREFIX + this.#used);
      this.#used += n;
      offset += n;
      if (this.#used === this.#capacity) this.#emit();
    }
  }

  #zeros(count: number): void {
    let left = count;
    while (left > 0) {
      const n = Math.min(left, this.#capacity - this.#used);
      this.#frame.fill(0, PREFIX + this.#used, PREFIX + this.#used + n);
      this.#used += n;
      left -= n;
      if (this.#used === this.#capacity) this.#emit();
    }
  }

  #emit(): void {
    const frame = this.#frame;
    const length = this.#used;
    writePrefix(frame, length);
    const ipc = frame.subarray(PREFIX, PREFIX + length);
    let released = false;
    frames.set(ipc, {
      bytes: frame.subarray(0, PREFIX + length),
      release: () => {
        if (released) return;
        released = true;
        // A few spare buffers are enough: gRPC copies a message out as soon as it is written.
        if (this.#free.length < 4) this.#free.push(frame);
      },
    });
    this.#ready.push(ipc);
    this.#frame = this.#newFrame();
    this.#used = 0;
  }

  #newFrame(): Uint8Array {
    return this.#free.pop() ?? new Uint8Array(PREFIX + this.#capacity);
  }
}

/** The bytes an encapsulated IPC message's header takes: continuation, length, metadata, padding to 8. */
function messageHeaderBytes(meta: Uint8Array): number {
  return 8 + meta.byteLength + padding(8 + meta.byteLength);
}

function padding(n: number): number {
  return ((n + 7) & ~7) - n;
}

/** `chunk { ipc }` framing: tags and lengths as padded varints (5 and 4 bytes, see PREFIX). */
function writePrefix(frame: Uint8Array, ipcLength: number): void {
  frame[0] = 0x0a;
  paddedVarint(frame, 1, 1 + 4 + ipcLength, 5);
  frame[6] = 0x0a;
  paddedVarint(frame, 7, ipcLength, 4);
}

function paddedVarint(out: Uint8Array, at: number, value: number, width: number): void {
  let v = value;
  for (let i = 0; i < width - 1; i++) {
    out[at + i] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  if (v > 0x7f) throw new Error(`a length of ${value} does not fit a ${width}-byte varint`);
  out[at + width - 1] = v;
}
