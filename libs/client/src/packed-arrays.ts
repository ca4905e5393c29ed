// Repeated scalars of a protobuf message decoded into typed arrays: packed runs and unpacked values
// collected as byte ranges while the message is read, decoded at once at the end, into arrays
// carved out of a shared slab.
import { WIRE_BIT32, WIRE_BIT64, WIRE_DELIMITED, WIRE_VARINT, type WireReader } from "./wire-reader.js";

/**
 * Typed arrays carved out of a few shared ArrayBuffers: a fresh ArrayBuffer per column (its own
 * zeroed backing store, outside the JS heap) costs more than decoding the column, so a batch's
 * arrays are views of one slab.
 */
export class Slab {
  readonly #chunk: number;
  #buffer = new ArrayBuffer(0);
  #at = 0;

  constructor(chunkBytes: number) {
    this.#chunk = Math.max(1024, chunkBytes);
  }

  /** Where `bytes` start, 8-byte aligned (every typed array fits there), in the buffer this may replace. */
  #take(bytes: number): number {
    let at = (this.#at + 7) & ~7;
    if (at + bytes > this.#buffer.byteLength) {
      this.#buffer = new ArrayBuffer(Math.max(this.#chunk, bytes));
      at = 0;
    }
    this.#at = at + bytes;
    return at;
  }

  float64(n: number): Float64Array {
    const at = this.#take(n * 8);
    return new Float64Array(this.#buffer, at, n);
  }
  float32(n: number): Float32Array {
    const at = this.#take(n * 4);
    return new Float32Array(this.#buffer, at, n);
  }
  int32(n: number): Int32Array {
    const at = this.#take(n * 4);
    return new Int32Array(this.#buffer, at, n);
  }
  uint32(n: number): Uint32Array {
    const at = this.#take(n * 4);
    return new Uint32Array(this.#buffer, at, n);
  }
  uint8(n: number): Uint8Array {
    const at = this.#take(n);
    return new Uint8Array(this.#buffer, at, n);
  }
  bigint64(n: number): BigInt64Array {
    const at = this.#take(n * 8);
    return new BigInt64Array(this.#buffer, at, n);
  }
}

export type ScalarKind = "bools" | "int32s" | "int64s" | "floats" | "doubles" | "uint32s" | "enums";

const WIDTH: Partial<Record<ScalarKind, number>> = { doubles: 8, floats: 4 };
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The occurrences of one repeated scalar field, packed (a run of values) or not (one value per
 * tag), in order, possibly spread over several occurrences of the enclosing message: counted as
 * they come, decoded at the end into one typed array.
 */
export class RepeatedScalars {
  readonly #kind: ScalarKind;
  readonly #width: number;
  readonly #runs: Uint8Array[] = [];
  #count = 0;

  constructor(kind: ScalarKind) {
    this.#kind = kind;
    this.#width = WIDTH[kind] ?? 0;
  }

  /** Takes the field the reader stands on. */
  add(r: WireReader, field: string): void {
    const start = r.pos;
    if (r.wt === WIRE_DELIMITED) {
      const run = r.bytes(field);
      this.#count += this.#width ? countFixed(run, this.#width, field) : countVarints(run, field);
      this.#runs.push(run);
      return;
    }
    r.expect(this.#width === 8 ? WIRE_BIT64 : this.#width === 4 ? WIRE_BIT32 : WIRE_VARINT, field);
    r.skip();
    this.#runs.push(r.buf.subarray(start, r.pos));
    this.#count++;
  }

  doubles(slab: Slab): Float64Array {
    return this.#fixed(slab.float64(this.#count), (v, at) => v.getFloat64(at, true));
  }

  floats(slab: Slab): Float32Array {
    return this.#fixed(slab.float32(this.#count), (v, at) => v.getFloat32(at, true));
  }

  /** int32 (and dates): a varint's low 32 bits, signed. */
  int32s(slab: Slab): Int32Array {
    return this.#varints(slab.int32(this.#count));
  }

  uint32s(slab: Slab): Uint32Array {
    return this.#varints(slab.uint32(this.#count));
  }

  /** bools as 0/1: any varint other than 0 is true. */
  bools(slab: Slab): Uint8Array {
    const out = this.#varints(slab.uint8(this.#count), true);
    for (let i = 0; i < out.length; i++) if (out[i]! > 1) out[i] = 1;
    return out;
  }

  /** Enum values as bytes; one beyond 0..255 (unknown to this SDK) becomes 0, UNSPECIFIED. */
  enums(slab: Slab): Uint8Array {
    return this.#varints(slab.uint8(this.#count), false, true);
  }

  /** int64 is a plain varint (two's complement, no zigzag): written as two 32-bit halves, no BigInt per value. */
  int64s(slab: Slab): BigInt64Array {
    const out = slab.bigint64(this.#count);
    const halves = new Int32Array(out.buffer, out.byteOffset, out.length * 2);
    let i = 0;
    for (const run of this.#runs) {
      for (let at = 0; at < run.length; i++) {
        at = varint64(run, at);
        if (LITTLE_ENDIAN) {
          halves[2 * i] = lo;
          halves[2 * i + 1] = hi;
        } else out[i] = BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
      }
    }
    return out;
  }

  /** Packed doubles and floats are little-endian IEEE 754: copied byte for byte into fresh (aligned) memory. */
  #fixed<A extends Float64Array | Float32Array>(out: A, get: (v: DataView, at: number) => number): A {
    const width = out.BYTES_PER_ELEMENT;
    let i = 0;
    for (const run of this.#runs) {
      if (LITTLE_ENDIAN) new Uint8Array(out.buffer, out.byteOffset + i * width, run.length).set(run);
      else {
        const view = new DataView(run.buffer, run.byteOffset, run.byteLength);
        for (let at = 0; at < run.length; at += width) out[i + at / width] = get(view, at);
      }
      i += run.length / width;
    }
    return out;
  }

  /** Varints' low 32 bits; `anyBit`: any set bit of the 64 counts (bools); `byte`: beyond 255 is 0 (enums). */
  #varints<A extends Int32Array | Uint32Array | Uint8Array>(out: A, anyBit = false, byte = false): A {
    let i = 0;
    for (const run of this.#runs) {
      for (let at = 0; at < run.length; i++) {
        const b = run[at]!;
        // One byte per value (statuses, bools, small ints): no varint arithmetic.
        if (b < 0x80) {
          out[i] = b;
          at++;
          continue;
        }
        at = varint64(run, at);
        out[i] = anyBit ? (lo !== 0 || hi !== 0 ? 1 : 0) : byte ? (hi === 0 && lo >>> 0 <= 255 ? lo : 0) : lo;
      }
    }
    return out;
  }
}

function countFixed(run: Uint8Array, width: number, field: string): number {
  if (run.length % width !== 0) throw new Error(`${field}: a packed run of ${run.length} bytes is not a whole number of ${width}-byte values`);
  return run.length / width;
}

/** Varints in a packed run: the bytes without the continuation bit; the run must end on one. */
function countVarints(run: Uint8Array, field: string): number {
  let n = 0;
  for (let i = 0; i < run.length; i++) if (run[i]! < 0x80) n++;
  if (run.length > 0 && run[run.length - 1]! >= 0x80) throw new Error(`${field}: a packed run ends inside a varint`);
  return n;
}

// The halves of the last varint64 read (module scratch: no allocation per value).
let lo = 0;
let hi = 0;

/** Reads a varint of at most 10 bytes at `at` into lo/hi; returns the position after it. */
function varint64(buf: Uint8Array, at: number): number {
  let l = 0;
  let h = 0;
  for (let shift = 0; shift < 70; shift += 7) {
    if (at >= buf.length) throw new Error("a varint runs past the end of its field");
    const b = buf[at++]!;
    if (shift < 28) l |= (b & 0x7f) << shift;
    else if (shift === 28) {
      l |= (b & 0x0f) << 28;
      h = (b & 0x7f) >> 4;
    } else h |= (b & 0x7f) << (shift - 32);
    if (b < 0x80) {
      lo = l | 0;
      hi = h | 0;
      return at;
    }
  }
  throw new Error("a varint longer than 10 bytes");
}
