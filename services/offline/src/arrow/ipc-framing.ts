import * as arrow from "apache-arrow";

/**
 * Follows the message framing of an Arrow IPC stream (continuation marker, metadata length,
 * metadata, body) to know when its end-of-stream marker has arrived, without decoding batches.
 */
export class IpcFraming {
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  /** Bytes still to skip (the body of the current message). */
  #skip = 0;
  #ended = false;

  get ended(): boolean {
    return this.#ended;
  }

  push(bytes: Uint8Array): void {
    if (this.#ended) return;
    let view = bytes;
    if (this.#skip > 0) {
      const n = Math.min(this.#skip, view.byteLength);
      this.#skip -= n;
      view = view.subarray(n);
    }
    if (view.byteLength > 0) {
      this.#pending.push(view);
      this.#pendingBytes += view.byteLength;
    }
    this.#parse();
  }

  #parse(): void {
    while (!this.#ended && this.#skip === 0) {
      if (this.#pendingBytes < 8) return;
      const head = this.#peek(8);
      const dv = new DataView(head.buffer, head.byteOffset, 8);
      let length = dv.getInt32(0, true);
      let prefix = 4;
      if (length === -1) {
        length = dv.getInt32(4, true);
        prefix = 8;
      }
      if (length === 0 || length < 0 || length > 1 << 28) {
        // The end-of-stream marker, or bytes that are no IPC stream (the reader will say so).
        this.#ended = true;
        return;
      }
      if (this.#pendingBytes < prefix + length) return;
      const metadata = this.#take(prefix + length).subarray(prefix);
      const message = arrow.Message.decode(metadata);
      const body = Number(message.bodyLength);
      const have = Math.min(body, this.#pendingBytes);
      this.#take(have);
      this.#skip = body - have;
    }
  }

  #peek(n: number): Uint8Array {
    if (n === 0) return new Uint8Array(0);
    const first = this.#pending[0]!;
    if (first.byteLength >= n) return first.subarray(0, n);
    const out = new Uint8Array(n);
    let o = 0;
    for (const p of this.#pending) {
      const k = Math.min(n - o, p.byteLength);
      out.set(p.subarray(0, k), o);
      o += k;
      if (o === n) break;
    }
    return out;
  }

  #take(n: number): Uint8Array {
    const out = this.#peek(n);
    const copy = out.slice();
    let left = n;
    while (left > 0) {
      const first = this.#pending[0]!;
      if (first.byteLength <= left) {
        this.#pending.shift();
        left -= first.byteLength;
      } else {
        this.#pending[0] = first.subarray(left);
        left = 0;
      }
    }
    this.#pendingBytes -= n;
    return copy;
  }
}
