import { ScalarType, type DataType, type Value } from "@granary/proto/types";

/**
 * The online store's value: one feature row of a group, as written.
 *
 *   u8   format (0x01)
 *   i64  event time, microseconds since the epoch (little-endian, as everything below)
 *   u16  n, the number of columns written (a group may have more later: AppendFeatures)
 *   ⌈n/8⌉ bytes  null bitmap, bit i set = column i is null
 *   the non-null values, in column order:
 *     bool u8 · int32, date i32 · int64, timestamp i64 · float f32 · double f64
 *     string, bytes: u32 length + bytes
 *     list: u32 count + items (fixed-width items raw; strings and bytes length-prefixed)
 *
 * Columns appended after a row was written read as their default (`RowDefaults`), else null.
 */
export const ROW_FORMAT = 0x01;

export type Scalar = boolean | number | bigint | string | Uint8Array;
export type CellValue = Scalar | readonly Scalar[] | null;

const FIXED: Partial<Record<ScalarType, number>> = {
  [ScalarType.BOOL]: 1,
  [ScalarType.INT32]: 4,
  [ScalarType.DATE]: 4,
  [ScalarType.INT64]: 8,
  [ScalarType.TIMESTAMP]: 8,
  [ScalarType.FLOAT]: 4,
  [ScalarType.DOUBLE]: 8,
};

/** Encodes rows into one reusable buffer; `encode` returns a copy per row. */
export class RowEncoder {
  #buf = Buffer.allocUnsafe(1024);
  #len = 0;
  readonly #types: readonly DataType[];

  constructor(types: readonly DataType[]) {
    this.#types = types;
  }

  encode(eventMicros: bigint, values: readonly CellValue[]): Buffer {
    const n = this.#types.length;
    const bitmapBytes = (n + 7) >> 3;
    this.#len = 0;
    this.#ensure(11 + bitmapBytes);
    this.#buf[0] = ROW_FORMAT;
    this.#buf.writeBigInt64LE(eventMicros, 1);
    this.#buf.writeUInt16LE(n, 9);
    this.#buf.fill(0, 11, 11 + bitmapBytes);
    this.#len = 11 + bitmapBytes;
    for (let i = 0; i < n; i++) {
      const value = values[i] ?? null;
      if (value === null) {
        this.#buf[11 + (i >> 3)]! |= 1 << (i & 7);
        continue;
      }
      const type = this.#types[i]!;
      if (type.list) {
        const items = value as readonly Scalar[];
        this.#ensure(4);
        this.#buf.writeUInt32LE(items.length, this.#len);
        this.#len += 4;
        for (const item of items) this.#scalar(type.scalar, item);
      } else {
        this.#scalar(type.scalar, value as Scalar);
      }
    }
    return Buffer.from(this.#buf.subarray(0, this.#len));
  }

  #scalar(scalar: ScalarType, v: Scalar): void {
    const fixed = FIXED[scalar];
    if (fixed !== undefined) this.#ensure(fixed);
    // After #ensure, which may have moved the row to a larger buffer.
    const b = this.#buf;
    switch (scalar) {
      case ScalarType.BOOL:
        b[this.#len] = v ? 1 : 0;
        break;
      case ScalarType.INT32:
      case ScalarType.DATE:
        b.writeInt32LE(Number(v), this.#len);
        break;
      case ScalarType.INT64:
      case ScalarType.TIMESTAMP:
        b.writeBigInt64LE(BigInt(v as bigint | number), this.#len);
        break;
      case ScalarType.FLOAT:
        b.writeFloatLE(v as number, this.#len);
        break;
      case ScalarType.DOUBLE:
        b.writeDoubleLE(v as number, this.#len);
        break;
      case ScalarType.STRING:
      case ScalarType.BYTES: {
        const bytes = typeof v === "string" ? Buffer.from(v, "utf8") : (v as Uint8Array);
        this.#ensure(4 + bytes.length);
        this.#buf.writeUInt32LE(bytes.length, this.#len);
        this.#buf.set(bytes, this.#len + 4);
        this.#len += 4 + bytes.length;
        return;
      }
      default:
        throw new Error(`cannot encode ${ScalarType[scalar]}`);
    }
    this.#len += fixed!;
  }

  #ensure(extra: number): void {
    if (this.#len + extra <= this.#buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#len + extra));
    this.#buf.copy(next, 0, 0, this.#len);
    this.#buf = next;
  }
}

/** The event time of a stored row, without decoding the rest. */
export function eventMicrosOf(row: Uint8Array): bigint {
  return Buffer.from(row.buffer, row.byteOffset, row.byteLength).readBigInt64LE(1);
}

/**
 * Where a decoded column goes: `write(row, buffer, offset)` for a value, `skip` for null. The read
 * path's column builders implement it, so values go straight into typed output arrays.
 */
export interface CellSink {
  value(row: number, buf: Buffer, offset: number, length: number): void;
  missing(row: number): void;
}

/**
 * The defaults of a group's columns, encoded once per group version in the row format, so a column
 * a row predates is handed to its sink as bytes like any stored value (typed, no per-cell
 * conversion). Offsets are -1 for columns without a default.
 */
export interface RowDefaults {
  readonly buf: Buffer;
  readonly offsets: Int32Array;
  readonly lengths: Int32Array;
}

/** Encodes a group's column defaults; undefined when no column has one (the common case). */
export function encodeRowDefaults(types: readonly DataType[], defaults: readonly CellValue[]): RowDefaults | undefined {
  if (defaults.every((d) => d === null || d === undefined)) return undefined;
  const buf = new RowEncoder(types).encode(0n, defaults);
  const n = types.length;
  const offsets = new Int32Array(n).fill(-1);
  const lengths = new Int32Array(n);
  let offset = 11 + ((n + 7) >> 3);
  for (let i = 0; i < n; i++) {
    if ((buf[11 + (i >> 3)]! & (1 << (i & 7))) !== 0) continue;
    offsets[i] = offset;
    lengths[i] = cellLength(types[i]!, buf, offset);
    offset += lengths[i]!;
  }
  return { buf, offsets, lengths };
}

/**
 * Walks a stored row, handing each wanted column's bytes to its sink (sinks[i] undefined = column i
 * not wanted). Columns the row predates (appended later) get their default from `defaults`, else
 * `missing`; a null stored in the row stays null. Returns the row's event time.
 */
export function decodeRowInto(
  raw: Uint8Array,
  types: readonly DataType[],
  sinks: readonly (CellSink | undefined)[],
  row: number,
  defaults?: RowDefaults,
): bigint {
  const buf = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const eventMicros = buf.readBigInt64LE(1);
  const n = buf.readUInt16LE(9);
  const stored = Math.min(n, types.length);
  let offset = 11 + ((n + 7) >> 3);
  for (let i = 0; i < stored; i++) {
    const sink = sinks[i];
    if ((buf[11 + (i >> 3)]! & (1 << (i & 7))) !== 0) {
      sink?.missing(row);
      continue;
    }
    const length = cellLength(types[i]!, buf, offset);
    sink?.value(row, buf, offset, length);
    offset += length;
  }
  for (let i = stored; i < types.length; i++) {
    const sink = sinks[i];
    if (!sink) continue;
    const at = defaults ? defaults.offsets[i]! : -1;
    if (at < 0) sink.missing(row);
    else sink.value(row, defaults!.buf, at, defaults!.lengths[i]!);
  }
  return eventMicros;
}

/** A proto Value as a cell (defaults of appended columns). */
export function cellOf(value: Value): CellValue {
  const k = value.kind;
  switch (k.case) {
    case undefined:
      return null;
    case "timestampValue":
      return k.value.seconds * 1_000_000n + BigInt(Math.floor(k.value.nanos / 1000));
    case "listValue":
      return k.value.values.map((v) => cellOf(v)) as Exclude<CellValue, null>;
    default:
      return k.value as CellValue;
  }
}

function cellLength(type: DataType, buf: Buffer, offset: number): number {
  if (!type.list) {
    const fixed = FIXED[type.scalar];
    return fixed !== undefined ? fixed : 4 + buf.readUInt32LE(offset);
  }
  const count = buf.readUInt32LE(offset);
  const fixed = FIXED[type.scalar];
  if (fixed !== undefined) return 4 + count * fixed;
  let length = 4;
  for (let k = 0; k < count; k++) length += 4 + buf.readUInt32LE(offset + length);
  return length;
}

/** Decodes one cell to a JS value (for tests, tools and the non-numeric paths). */
export function decodeCell(type: DataType, buf: Buffer, offset: number): CellValue {
  if (!type.list) return decodeScalar(type.scalar, buf, offset).value;
  const count = buf.readUInt32LE(offset);
  const items: Scalar[] = [];
  let at = offset + 4;
  for (let k = 0; k < count; k++) {
    const { value, length } = decodeScalar(type.scalar, buf, at);
    items.push(value);
    at += length;
  }
  return items;
}

function decodeScalar(scalar: ScalarType, buf: Buffer, offset: number): { value: Scalar; length: number } {
  switch (scalar) {
    case ScalarType.BOOL:
      return { value: buf[offset] === 1, length: 1 };
    case ScalarType.INT32:
    case ScalarType.DATE:
      return { value: buf.readInt32LE(offset), length: 4 };
    case ScalarType.INT64:
    case ScalarType.TIMESTAMP:
      return { value: buf.readBigInt64LE(offset), length: 8 };
    case ScalarType.FLOAT:
      return { value: buf.readFloatLE(offset), length: 4 };
    case ScalarType.DOUBLE:
      return { value: buf.readDoubleLE(offset), length: 8 };
    case ScalarType.STRING: {
      const len = buf.readUInt32LE(offset);
      return { value: buf.toString("utf8", offset + 4, offset + 4 + len), length: 4 + len };
    }
    case ScalarType.BYTES: {
      const len = buf.readUInt32LE(offset);
      return { value: new Uint8Array(buf.subarray(offset + 4, offset + 4 + len)), length: 4 + len };
    }
    default:
      throw new Error(`cannot decode ${ScalarType[scalar]}`);
  }
}
