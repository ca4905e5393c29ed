import { create } from "@bufbuild/protobuf";
import { ColumnDataSchema, ScalarType, ValueStatus, type ColumnData, type DataType } from "@granary/proto/types";
import { decodeCell, type CellSink, type CellValue } from "../store/row-codec.js";

/**
 * Whether typed-array memory is little-endian, as protobuf's packed fixed-width values and the
 * stored rows are: then columns are read and written as raw bytes (true on every platform Node
 * runs on in practice; the other paths exist just in case).
 */
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * One output column of a lookup: typed storage (a Float64Array for doubles, …) plus a status per
 * row. It is the decode sink of the stored rows, so numeric values go from LMDB's bytes into the
 * typed array without a JS object per value.
 */
export class ColumnBuilder implements CellSink {
  readonly type: DataType;
  readonly statuses: Uint8Array;
  readonly f64: Float64Array | undefined;
  readonly f32: Float32Array | undefined;
  readonly i32: Int32Array | undefined;
  readonly i64: BigInt64Array | undefined;
  readonly bool: Uint8Array | undefined;
  readonly objects: CellValue[] | undefined;
  /** The int64 column's memory as 32-bit words (little-endian halves): filled from stored bytes without a BigInt. */
  readonly i64words: Int32Array | undefined;
  /** A floating-point column's memory as bytes (what the response's packed field carries). */
  readonly valueBytes: Uint8Array | undefined;

  constructor(type: DataType, rows: number) {
    this.type = type;
    this.statuses = new Uint8Array(rows).fill(ValueStatus.NOT_FOUND);
    const scalar = type.scalar;
    const fixed = !type.list;
    this.f64 = fixed && scalar === ScalarType.DOUBLE ? new Float64Array(rows) : undefined;
    this.f32 = fixed && scalar === ScalarType.FLOAT ? new Float32Array(rows) : undefined;
    this.i32 = fixed && (scalar === ScalarType.INT32 || scalar === ScalarType.DATE) ? new Int32Array(rows) : undefined;
    this.i64 = fixed && (scalar === ScalarType.INT64 || scalar === ScalarType.TIMESTAMP) ? new BigInt64Array(rows) : undefined;
    this.bool = fixed && scalar === ScalarType.BOOL ? new Uint8Array(rows) : undefined;
    this.objects = this.f64 || this.f32 || this.i32 || this.i64 || this.bool ? undefined : new Array<CellValue>(rows).fill(null);
    this.i64words = this.i64 && LITTLE_ENDIAN ? new Int32Array(this.i64.buffer, this.i64.byteOffset, rows * 2) : undefined;
    const floats = this.f64 ?? this.f32;
    this.valueBytes = floats ? new Uint8Array(floats.buffer, floats.byteOffset, floats.byteLength) : undefined;
  }

  /** Back to a fresh column (every row NOT_FOUND, values zero) for the next lookup of a pooled scratch. */
  reset(): void {
    this.statuses.fill(ValueStatus.NOT_FOUND);
    this.f64?.fill(0);
    this.f32?.fill(0);
    this.i32?.fill(0);
    this.i64?.fill(0n);
    this.bool?.fill(0);
    this.objects?.fill(null);
  }

  value(row: number, buf: Buffer, offset: number): void {
    this.statuses[row] = ValueStatus.PRESENT;
    if (this.f64) this.f64[row] = buf.readDoubleLE(offset);
    else if (this.f32) this.f32[row] = buf.readFloatLE(offset);
    else if (this.i32) this.i32[row] = buf.readInt32LE(offset);
    else if (this.i64words) {
      this.i64words[row * 2] = buf.readInt32LE(offset);
      this.i64words[row * 2 + 1] = buf.readInt32LE(offset + 4);
    } else if (this.i64) this.i64[row] = buf.readBigInt64LE(offset);
    else if (this.bool) this.bool[row] = buf[offset] ?? 0;
    else this.objects![row] = decodeCell(this.type, buf, offset);
  }

  missing(row: number): void {
    this.statuses[row] = ValueStatus.NULL;
  }

  /** Sets a value from JS (passed features, on-demand results); null marks NULL. */
  set(row: number, value: CellValue): void {
    if (value === null) {
      this.statuses[row] = ValueStatus.NULL;
      return;
    }
    this.statuses[row] = ValueStatus.PRESENT;
    if (this.f64) this.f64[row] = Number(value);
    else if (this.f32) this.f32[row] = Number(value);
    else if (this.i32) this.i32[row] = Number(value);
    else if (this.i64) this.i64[row] = BigInt(value as bigint | number);
    else if (this.bool) this.bool[row] = value ? 1 : 0;
    else this.objects![row] = value;
  }

  /** The value at a row as JS, or null when it is not PRESENT. */
  get(row: number): CellValue {
    if (this.statuses[row] !== ValueStatus.PRESENT) return null;
    if (this.f64) return this.f64[row]!;
    if (this.f32) return this.f32[row]!;
    if (this.i32) return this.i32[row]!;
    if (this.i64) return this.i64[row]!;
    if (this.bool) return this.bool[row] === 1;
    return this.objects![row] ?? null;
  }

  /** Marks every row of the column with a status (the group's row expired, was not found, …). */
  mark(row: number, status: ValueStatus): void {
    this.statuses[row] = status;
  }

  /** The packed wire form. */
  toColumnData(): ColumnData {
    const n = this.statuses.length;
    if (this.f64) return create(ColumnDataSchema, { values: { case: "doubles", value: { values: Array.from(this.f64) } } });
    if (this.f32) return create(ColumnDataSchema, { values: { case: "floats", value: { values: Array.from(this.f32) } } });
    if (this.i32) {
      const values = Array.from(this.i32);
      return create(ColumnDataSchema, {
        values: this.type.scalar === ScalarType.DATE ? { case: "dates", value: { values } } : { case: "int32s", value: { values } },
      });
    }
    if (this.i64) {
      const values = Array.from(this.i64);
      return create(ColumnDataSchema, {
        values: this.type.scalar === ScalarType.TIMESTAMP ? { case: "timestamps", value: { values } } : { case: "int64s", value: { values } },
      });
    }
    if (this.bool) return create(ColumnDataSchema, { values: { case: "bools", value: { values: Array.from(this.bool, (b) => b === 1) } } });
    return objectsToColumnData(this.type, this.objects!, n);
  }
}

function objectsToColumnData(type: DataType, objects: readonly CellValue[], n: number): ColumnData {
  if (!type.list) {
    if (type.scalar === ScalarType.STRING) {
      return create(ColumnDataSchema, { values: { case: "strings", value: { values: objects.map((v) => (typeof v === "string" ? v : "")) } } });
    }
    return create(ColumnDataSchema, { values: { case: "bytes", value: { values: objects.map((v) => (v instanceof Uint8Array ? v : new Uint8Array())) } } });
  }
  const offsets: number[] = [0];
  const items: CellValue[] = [];
  for (let i = 0; i < n; i++) {
    const list = (objects[i] ?? []) as readonly CellValue[];
    items.push(...list);
    offsets.push(items.length);
  }
  const itemType = { ...type, list: false };
  const builder = new ColumnBuilder(itemType as DataType, items.length);
  items.forEach((v, i) => builder.set(i, v));
  return create(ColumnDataSchema, { values: { case: "lists", value: { offsets, items: builder.toColumnData() } } });
}
