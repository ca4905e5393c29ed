import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import * as arrow from "apache-arrow";
import { buildColumn } from "@granary/arrow";
import type { PlainValue } from "@granary/cel";
import { ColumnDataSchema, NamedColumnSchema, ScalarType, ValueSchema, type Column, type ColumnData, type DataType, type NamedColumn, type Value } from "@granary/proto/types";

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
    return (value as FeatureValue[]).map((v) => toPlain(item, v, column) ?? (0 as PlainValue));
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
    const values = rows.map((row, i) => toPlain(type, row[column.name], `row ${i}, column "${column.name}"`));
    vectors[column.name] = arrow.makeVector(buildColumn(type, values));
  }
  return new arrow.Table(vectors);
}

/** One request column (serving keys, passed features, request parameters) in the columnar wire form. */
export function namedColumn(name: string, type: DataType, values: readonly (FeatureValue | undefined)[]): NamedColumn {
  return create(NamedColumnSchema, { name, data: columnData(type, values.map((v, i) => toPlain(type, v, `row ${i}, "${name}"`))) });
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
  const values = data?.values;
  if (!values || values.case === undefined) return null;
  if (data.nullIndexes.includes(row)) return null;
  if (values.case === "lists") {
    const { offsets, items } = values.value;
    const item = { ...type, list: false } as DataType;
    const out: FeatureValue[] = [];
    for (let k = offsets[row]!; k < offsets[row + 1]!; k++) out.push(readColumnValue(items, item, k));
    return out;
  }
  const raw = (values.value as { values: ArrayLike<PlainValue> }).values[row];
  return fromPlain({ ...type, list: false } as DataType, raw as PlainValue);
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
    return Number.isInteger(value) ? create(ValueSchema, { kind: { case: "int64Value", value: BigInt(value) } }) : create(ValueSchema, { kind: { case: "doubleValue", value } });
  }
  if (typeof value === "string") return create(ValueSchema, { kind: { case: "stringValue", value } });
  if (value instanceof Date) return create(ValueSchema, { kind: { case: "timestampValue", value: timestampFromMs(value.getTime()) } });
  if (value instanceof Uint8Array) return create(ValueSchema, { kind: { case: "bytesValue", value } });
  return create(ValueSchema, { kind: { case: "listValue", value: { values: (value as FeatureValue[]).map((v) => toValue(v)) } } });
}

function plainToValue(type: DataType, plain: PlainValue | null): Value {
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
      return create(ValueSchema, { kind: { case: "timestampValue", value: timestampFromMs(Number((plain as bigint) / 1000n)) } });
    case ScalarType.DATE:
      return create(ValueSchema, { kind: { case: "dateValue", value: plain as number } });
    default:
      return create(ValueSchema, { kind: { case: "stringValue", value: plain as string } });
  }
}
