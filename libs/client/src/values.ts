import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import * as arrow from "apache-arrow";
import { arrowTypeOf, buildColumn } from "@granary/arrow";
import type { PlainValue } from "@granary/cel";
import {
  ColumnDataSchema,
  NamedColumnSchema,
  ScalarType,
  ValueSchema,
  type Column,
  type ColumnData,
  type DataType,
  type NamedColumn,
  type Value,
} from "@granary/proto/types";

/**
 * A value as the client takes and returns it: int64 as number (bigint beyond 2^53), timestamps and
 * dates as Date, bytes as Uint8Array, lists as arrays, null for a missing value.
 */
export type FeatureValue = null | boolean | number | bigint | string | Date | Uint8Array | readonly FeatureValue[];

/** A row keyed by column name. */
export type Row = Record<string, FeatureValue | undefined>;

const MS_PER_DAY = 86_400_000;

/** A user value as the engine holds it (@granary/cel's PlainValue): int64 as bigint, timestamps as µs, dates as days. */
export function toPlain(type: DataType, value: FeatureValue | undefined, column = "value"): PlainValue | null {
  if (value === null || value === undefined) return null;
  if (type.list) {
    if (!Array.isArray(value)) throw new TypeError(`${column}: expected a list, got ${describe(value)}`);
    const item = { ...type, list: false } as DataType;
    return (value as FeatureValue[]).map((v, i) => {
      const plain = toPlain(item, v, column);
      if (plain === null)
        throw new TypeError(`${column}: item ${i} of the list is null; lists hold values only (use an empty list, or null for the whole value)`);
      return plain;
    });
  }
  switch (type.scalar) {
    case ScalarType.BOOL:
      if (typeof value !== "boolean") throw new TypeError(`${column}: expected a boolean, got ${describe(value)}`);
      return value;
    case ScalarType.INT32:
    case ScalarType.FLOAT:
    case ScalarType.DOUBLE:
      return numberOf(value, column);
    case ScalarType.INT64:
      if (typeof value === "bigint") return value;
      if (typeof value === "number" && Number.isInteger(value)) return BigInt(value);
      if (typeof value === "string" && /^-?\d+$/.test(value)) return BigInt(value);
      throw new TypeError(`${column}: expected an integer, got ${describe(value)}`);
    case ScalarType.TIMESTAMP:
      if (typeof value === "bigint") return value;
      return BigInt(msOf(value, column)) * 1000n;
    case ScalarType.DATE:
      if (typeof value === "number" && Number.isInteger(value)) return value;
      return Math.floor(msOf(value, column) / MS_PER_DAY);
    case ScalarType.BYTES:
      if (value instanceof Uint8Array) return value;
      if (typeof value === "string") return new TextEncoder().encode(value);
      throw new TypeError(`${column}: expected bytes, got ${describe(value)}`);
    default:
      if (typeof value === "string") return value;
      if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean") return String(value);
      throw new TypeError(`${column}: expected a string, got ${describe(value)}`);
  }
}

/** An engine value back as a FeatureValue. */
export function fromPlain(type: DataType, value: PlainValue | null | undefined): FeatureValue {
  if (value === null || value === undefined) return null;
  if (type.list) {
    const item = { ...type, list: false } as DataType;
    return (value as readonly PlainValue[]).map((v) => fromPlain(item, v));
  }
  switch (type.scalar) {
    case ScalarType.INT64: {
      const big = BigInt(value as bigint | number);
      return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
    }
    case ScalarType.TIMESTAMP:
      return new Date(Number(BigInt(value as bigint | number) / 1000n));
    case ScalarType.DATE:
      return new Date(Number(value) * MS_PER_DAY);
    default:
      return value as FeatureValue;
  }
}

function numberOf(value: FeatureValue, column: string): number {
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "string" && value.trim() !== "" && !Number.isNaN(Number(value))) return Number(value);
  throw new TypeError(`${column}: expected a number, got ${describe(value)}`);
}

function msOf(value: FeatureValue, column: string): number {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new TypeError(`${column}: invalid Date`);
    return value.getTime();
  }
  if (typeof value === "number") return value;
  if (typeof value === "string") {
    const ms = Date.parse(value);
    if (!Number.isNaN(ms)) return ms;
  }
  throw new TypeError(`${column}: expected a Date, an ISO-8601 string or epoch milliseconds, got ${describe(value)}`);
}

function describe(value: unknown): string {
  if (value instanceof Date) return "a Date";
  if (Array.isArray(value)) return "a list";
  return typeof value === "string" ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value) : `${typeof value} ${String(value)}`;
}

/**
 * Rows as an Arrow table typed by the group's columns. Only columns that some row names are
 * included (appended columns with defaults may be left out); a name no column has is an error.
 */
export function tableFromRows(columns: readonly Column[], rows: readonly Row[]): arrow.Table {
  const byName = new Map(columns.map((c) => [c.name, c]));
  const present = new Set<string>();
  for (const row of rows) for (const name of Object.keys(row)) present.add(name);
  for (const name of present) {
    if (!byName.has(name)) throw new TypeError(`column "${name}" is not in the feature group (columns: ${columns.map((c) => c.name).join(", ")})`);
  }
  const vectors: Record<string, arrow.Vector> = {};
  for (const column of columns) {
    if (!present.has(column.name) || !column.type) continue;
    const type = column.type;
    vectors[column.name] = arrow.makeVector(
      fixedWidthColumn(type, column.name, rows) ??
        buildColumn(
          type,
          rows.map((row, i) => toPlain(type, row[column.name], `row ${i}, column "${column.name}"`)),
        ),
    );
  }
  return new arrow.Table(vectors);
}

/**
 * Numeric and timestamp columns straight into typed arrays: one pass, no intermediate values
 * (plain objects to Arrow is the SDK's hot path on insert). Anything unusual goes through toPlain.
 */
function fixedWidthColumn(type: DataType, name: string, rows: readonly Row[]): arrow.Data | undefined {
  if (type.list) return undefined;
  const n = rows.length;
  const bitmap = new Uint8Array((n + 7) >>> 3);
  let nulls = 0;
  const where = (i: number) => `row ${i}, column "${name}"`;
  const fill = <A extends Float64Array | Float32Array | Int32Array | BigInt64Array>(data: A, fast: (v: unknown) => A[number] | undefined): A => {
    for (let i = 0; i < n; i++) {
      const v = rows[i]![name];
      if (v === null || v === undefined) {
        nulls++;
        continue;
      }
      bitmap[i >>> 3]! |= 1 << (i & 7);
      const quick = fast(v);
      data[i] = quick !== undefined ? quick : (toPlain(type, v, where(i)) as A[number]);
    }
    return data;
  };
  let data: Float64Array | Float32Array | Int32Array | BigInt64Array;
  switch (type.scalar) {
    case ScalarType.DOUBLE:
      data = fill(new Float64Array(n), (v) => (typeof v === "number" ? v : undefined));
      break;
    case ScalarType.FLOAT:
      data = fill(new Float32Array(n), (v) => (typeof v === "number" ? v : undefined));
      break;
    case ScalarType.INT32:
      data = fill(new Int32Array(n), (v) => (typeof v === "number" && Number.isInteger(v) ? v : undefined));
      break;
    case ScalarType.INT64:
      data = fill(new BigInt64Array(n), (v) => (typeof v === "number" && Number.isInteger(v) ? BigInt(v) : typeof v === "bigint" ? v : undefined));
      break;
    case ScalarType.TIMESTAMP: {
      // Rows of one batch often share a Date: convert each distinct instant once.
      let last: Date | undefined;
      let lastMicros = 0n;
      data = fill(new BigInt64Array(n), (v) => {
        if (!(v instanceof Date)) return undefined;
        if (v !== last) {
          const ms = v.getTime();
          if (Number.isNaN(ms)) return undefined;
          last = v;
          lastMicros = BigInt(ms) * 1000n;
        }
        return lastMicros;
      });
      break;
    }
    default:
      return undefined;
  }
  return arrow.makeData({ type: arrowTypeOf(type), length: n, nullCount: nulls, nullBitmap: nulls > 0 ? bitmap : undefined, data } as never) as arrow.Data;
}

/** One request column (serving keys, passed features, request parameters) in the columnar wire form. */
export function namedColumn(name: string, type: DataType, values: readonly (FeatureValue | undefined)[]): NamedColumn {
  return create(NamedColumnSchema, {
    name,
    data: columnData(
      type,
      values.map((v, i) => toPlain(type, v, `row ${i}, "${name}"`)),
    ),
  });
}

function columnData(type: DataType, values: readonly (PlainValue | null)[]): ColumnData {
  const nullIndexes: number[] = [];
  values.forEach((v, i) => v === null && nullIndexes.push(i));
  const filled = <T>(zero: T) => values.map((v) => (v === null ? zero : (v as T)));
  if (type.list) {
    const offsets = [0];
    const items: (PlainValue | null)[] = [];
    for (const v of values) {
      if (v !== null) items.push(...(v as readonly PlainValue[]));
      offsets.push(items.length);
    }
    const itemData = columnData({ ...type, list: false } as DataType, items);
    return create(ColumnDataSchema, { values: { case: "lists", value: { offsets, items: itemData } }, nullIndexes });
  }
  const value = ((): ColumnData["values"] => {
    switch (type.scalar) {
      case ScalarType.BOOL:
        return { case: "bools", value: { values: filled(false) } } as ColumnData["values"];
      case ScalarType.INT32:
        return { case: "int32s", value: { values: filled(0) } } as ColumnData["values"];
      case ScalarType.INT64:
        return { case: "int64s", value: { values: filled(0n) } } as ColumnData["values"];
      case ScalarType.FLOAT:
        return { case: "floats", value: { values: filled(0) } } as ColumnData["values"];
      case ScalarType.DOUBLE:
        return { case: "doubles", value: { values: filled(0) } } as ColumnData["values"];
      case ScalarType.BYTES:
        return { case: "bytes", value: { values: filled(new Uint8Array()) } } as ColumnData["values"];
      case ScalarType.TIMESTAMP:
        return { case: "timestamps", value: { values: filled(0n) } } as ColumnData["values"];
      case ScalarType.DATE:
        return { case: "dates", value: { values: filled(0) } } as ColumnData["values"];
      default:
        return { case: "strings", value: { values: filled("") } } as ColumnData["values"];
    }
  })();
  return create(ColumnDataSchema, { values: value, nullIndexes });
}

/** Row i of a response column, by the type it was sent as. */
export function readColumnValue(data: ColumnData | undefined, type: DataType, row: number): FeatureValue {
  return columnDecoder(data, type)(row);
}

/**
 * A reader of a ColumnData message's rows, built once per column: the null set, the value array and
 * the conversion are resolved up front, so decoding a batch costs one call per value. Online vectors
 * are read by feature-vector-batch.ts from typed arrays instead; its tests hold it to this reader.
 */
export function columnDecoder(data: ColumnData | undefined, type: DataType): (row: number) => FeatureValue {
  const values = data?.values;
  if (!values || values.case === undefined) return () => null;
  const nulls = data.nullIndexes.length > 0 ? new Set(data.nullIndexes) : undefined;
  if (values.case === "lists") {
    const { offsets, items } = values.value;
    const item = columnDecoder(items, { ...type, list: false } as DataType);
    return (row) => {
      if (nulls?.has(row)) return null;
      const out: FeatureValue[] = [];
      for (let k = offsets[row]!; k < offsets[row + 1]!; k++) out.push(item(k));
      return out;
    };
  }
  const array = (values.value as { values: ArrayLike<PlainValue> }).values;
  const scalar = type.list ? ({ ...type, list: false } as DataType) : type;
  const needsConversion = scalar.scalar === ScalarType.INT64 || scalar.scalar === ScalarType.TIMESTAMP || scalar.scalar === ScalarType.DATE;
  if (!needsConversion) return nulls ? (row) => (nulls.has(row) ? null : (array[row] as FeatureValue)) : (row) => array[row] as FeatureValue;
  return (row) => (nulls?.has(row) ? null : fromPlain(scalar, array[row] as PlainValue));
}

/** A literal for a filter or a default value; the type is inferred from the JS value when not given. */
export function toValue(value: FeatureValue, type?: DataType): Value {
  if (type) {
    const plain = toPlain(type, value);
    return plainToValue(type, plain);
  }
  if (value === null) return create(ValueSchema, {});
  if (typeof value === "boolean") return create(ValueSchema, { kind: { case: "boolValue", value } });
  if (typeof value === "bigint") return create(ValueSchema, { kind: { case: "int64Value", value } });
  if (typeof value === "number") {
    return Number.isInteger(value)
      ? create(ValueSchema, { kind: { case: "int64Value", value: BigInt(value) } })
      : create(ValueSchema, { kind: { case: "doubleValue", value } });
  }
  if (typeof value === "string") return create(ValueSchema, { kind: { case: "stringValue", value } });
  if (value instanceof Date) return create(ValueSchema, { kind: { case: "timestampValue", value: timestampFromMs(value.getTime()) } });
  if (value instanceof Uint8Array) return create(ValueSchema, { kind: { case: "bytesValue", value } });
  return create(ValueSchema, { kind: { case: "listValue", value: { values: (value as FeatureValue[]).map((v) => toValue(v)) } } });
}

/** An engine value (@granary/cel's PlainValue) as a Value message of the column type. */
export function plainToValue(type: DataType, plain: PlainValue | null): Value {
  if (plain === null) return create(ValueSchema, {});
  if (type.list) {
    const item = { ...type, list: false } as DataType;
    return create(ValueSchema, { kind: { case: "listValue", value: { values: (plain as PlainValue[]).map((v) => plainToValue(item, v)) } } });
  }
  switch (type.scalar) {
    case ScalarType.BOOL:
      return create(ValueSchema, { kind: { case: "boolValue", value: plain as boolean } });
    case ScalarType.INT32:
      return create(ValueSchema, { kind: { case: "int32Value", value: plain as number } });
    case ScalarType.INT64:
      return create(ValueSchema, { kind: { case: "int64Value", value: plain as bigint } });
    case ScalarType.FLOAT:
      return create(ValueSchema, { kind: { case: "floatValue", value: plain as number } });
    case ScalarType.DOUBLE:
      return create(ValueSchema, { kind: { case: "doubleValue", value: plain as number } });
    case ScalarType.BYTES:
      return create(ValueSchema, { kind: { case: "bytesValue", value: plain as Uint8Array } });
    case ScalarType.TIMESTAMP:
      return create(ValueSchema, { kind: { case: "timestampValue", value: timestampFromMicros(plain as bigint) } });
    case ScalarType.DATE:
      return create(ValueSchema, { kind: { case: "dateValue", value: plain as number } });
    default:
      return create(ValueSchema, { kind: { case: "stringValue", value: String(plain) } });
  }
}

/** Microseconds since the epoch as a Timestamp, exactly (sub-millisecond digits kept). */
function timestampFromMicros(micros: bigint) {
  const ts = timestampFromMs(Number(micros / 1000n));
  ts.nanos += Number(((micros % 1000n) + 1000n) % 1000n) * 1000;
  return ts;
}
