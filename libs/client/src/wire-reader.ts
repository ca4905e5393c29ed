// A protobuf wire reader for the SDK's hot responses: one buffer, sub-messages read in place (no
// copy, no DataView per message); repeated scalars go to packed-arrays.ts. Errors are plain Errors
// saying what is wrong; callers add which message.

export const WIRE_VARINT = 0;
export const WIRE_BIT64 = 1;
export const WIRE_DELIMITED = 2;
const WIRE_START_GROUP = 3;
const WIRE_END_GROUP = 4;
export const WIRE_BIT32 = 5;
const MAX_GROUP_DEPTH = 32;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Reads the fields of one message: `while (r.next()) switch (r.no) …`. */
export class WireReader {
  readonly buf: Uint8Array;
  pos: number;
  readonly end: number;
  /** Field number and wire type of the field next() stopped at. */
  no = 0;
  wt = 0;

  constructor(buf: Uint8Array, pos = 0, end = buf.length) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  /** Reads the next tag; false at the end of the message. */
  next(): boolean {
    if (this.pos >= this.end) return false;
    const start = this.pos;
    const tag = this.uint32();
    // A tag is a uint32: at most 5 bytes, the fifth holding 4 bits (protobuf-es refuses the rest too).
    if (this.pos - start > 5 || (this.pos - start === 5 && this.buf[this.pos - 1]! > 0x0f)) throw new Error("illegal tag: varint overflows uint32");
    this.no = tag >>> 3;
    this.wt = tag & 7;
    if (this.no === 0 || this.wt > WIRE_BIT32) throw new Error(`illegal tag: field ${this.no}, wire type ${this.wt}`);
    return true;
  }

  /** A varint's low 32 bits, unsigned (uint32, and int32 or enums with `| 0`). */
  uint32(): number {
    let value = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (this.pos >= this.end) throw new Error("a varint runs past the end of its message");
      const b = this.buf[this.pos++]!;
      if (shift < 32) value |= (b & 0x7f) << shift;
      if (b < 0x80) return value >>> 0;
    }
    throw new Error("a varint longer than 10 bytes");
  }

  expect(wt: number, field: string): void {
    if (this.wt !== wt) throw new Error(`${field} has wire type ${this.wt}, expected ${wt}`);
  }

  /** The current field's sub-message, read in place; the reader moves past it. */
  message(field: string): WireReader {
    const [start, end] = this.#delimited(field);
    return new WireReader(this.buf, start, end);
  }

  /** The current field's bytes (a view of the buffer). */
  bytes(field: string): Uint8Array {
    const [start, end] = this.#delimited(field);
    return this.buf.subarray(start, end);
  }

  /** The current field as a string; not UTF-8 is an error, as protobuf-es checks proto3 strings. */
  string(field: string): string {
    const [start, end] = this.#delimited(field);
    if (end - start <= 32) {
      let ascii = "";
      for (let i = start; i < end; i++) {
        const b = this.buf[i]!;
        if (b >= 0x80) return utf8.decode(this.buf.subarray(start, end));
        ascii += String.fromCharCode(b);
      }
      return ascii;
    }
    return utf8.decode(this.buf.subarray(start, end));
  }

  /** Skips the current field (a field this reader does not know). */
  skip(depth = 0): void {
    switch (this.wt) {
      case WIRE_VARINT:
        this.uint32();
        return;
      case WIRE_BIT64:
        return this.#advance(8);
      case WIRE_BIT32:
        return this.#advance(4);
      case WIRE_DELIMITED:
        this.#delimited("a skipped field");
        return;
      case WIRE_START_GROUP: {
        if (depth >= MAX_GROUP_DEPTH) throw new Error("groups nested too deep");
        const group = this.no;
        while (this.next()) {
          if ((this.wt as number) === WIRE_END_GROUP) {
            if (this.no !== group) throw new Error("invalid end group tag");
            return;
          }
          this.skip(depth + 1);
        }
        throw new Error("a group without its end");
      }
      default:
        throw new Error(`unexpected wire type ${this.wt}`);
    }
  }

  #delimited(field: string): [number, number] {
    this.expect(WIRE_DELIMITED, field);
    const length = this.uint32();
    const start = this.pos;
    this.#advance(length);
    return [start, this.pos];
  }

  #advance(n: number): void {
    if (this.end - this.pos < n) throw new Error("premature end of message");
    this.pos += n;
  }
}
