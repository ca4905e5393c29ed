import * as arrow from "apache-arrow";

/**
 * Follows the message framing of an Arrow IPC stream (continuation marker, metadata length,
 * metadata, body) to know when its end-of-stream marker has arrived, without decoding batches.
 * It also notices what a reader would silently drop: a second schema, or bytes after the marker
 * (a second stream appended to the first).
 */
export class IpcFraming {
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  /** Bytes still to skip (the body of the current message). */
  #skip = 0;
  #ended = false;
  #schemas = 0;
  #trailing = false;

  get ended(): boolean {
    return this.#ended;
  }

  /** Why the bytes so far are not one Arrow stream, or undefined while they are. */
  get problem(): string | undefined {
    if (this.#schemas > 1) return "it carries a second schema: send one Arrow stream (one schema, then record batches, then the end-of-stream marker)";
    if (this.#trailing) return "bytes follow its end-of-stream marker (a second stream appended?): send one Arrow stream";
    return undefined;
  }

  push(bytes: Uint8Array): void {
    if (this.#ended) {
      if (bytes.byteLength > 0) this.#trailing = true;
      return;
    }
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
      if (this.#pendingBytes < 4) return;
      let head = this.#peek(4);
      let length = new DataView(head.buffer, head.byteOffset, 4).getInt32(0, true);
      let prefix = 4;
      if (length === -1) {
        if (this.#pendingBytes < 8) return;
        head = this.#peek(8);
        length = new DataView(head.buffer, head.byteOffset, 8).getInt32(4, true);
        prefix = 8;
      }
      if (length === 0) {
        // The end-of-stream marker (8 bytes, or 4 in the pre-1.0 format).
        this.#ended = true;
        if (this.#pendingBytes > prefix) this.#trailing = true;
        return;
      }
      if (length < 0 || length > 1 << 28) {
        // Bytes that are no IPC stream: the reader will say so.
        this.#ended = true;
        return;
      }
      if (this.#pendingBytes < prefix + length) return;
      const metadata = this.#take(prefix + length).subarray(prefix);
      const message = arrow.Message.decode(metadata);
      if (message.headerType === arrow.MessageHeader.Schema) this.#schemas++;
      if (this.#schemas > 1) {
        this.#ended = true;
        return;
      }
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
