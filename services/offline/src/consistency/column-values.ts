import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { PlainValue } from "@granary/cel";
import { ColumnDataSchema, ScalarType, ValueSchema, type ColumnData, type DataType, type Value } from "@granary/proto/types";

/** Reads row i of a ColumnData (the online wire form) as Granary's JavaScript values, null for null. */
export function columnDataReader(data: ColumnData | undefined, type: DataType): (row: number) => PlainValue | null {
  const nulls = new Set(data?.nullIndexes ?? []);
  if (!data?.values.case) return () => null;
  if (data.values.case === "lists") {
    const { offsets, items } = data.values.value;
    const item = columnDataReader(items, { ...type, list: false } as DataType);
    return (row) => {
      if (nulls.has(row)) return null;
      const out: PlainValue[] = [];
      for (let i = offsets[row] ?? 0; i < (offsets[row + 1] ?? 0); i++) out.push(item(i) ?? (0 as PlainValue));
      return out;
    };
  }
  const values = (data.values.value as { values: ArrayLike<PlainValue> }).values;
  return (row) => (nulls.has(row) || row >= values.length ? null : (values[row] as PlainValue));
}

/** A column of values in the online wire form. */
export function columnDataOf(type: DataType, values: readonly (PlainValue | null)[]): ColumnData {
  const nullIndexes = values.flatMap((v, i) => (v === null ? [i] : []));
  if (type.list) {
    const offsets = [0];
    const items: PlainValue[] = [];
    for (const v of values) {
      if (v !== null) items.push(...(v as readonly PlainValue[]));
      offsets.push(items.length);
    }
    return create(ColumnDataSchema, {
      values: { case: "lists", value: { offsets, items: columnDataOf({ ...type, list: false } as DataType, items) } },
      nullIndexes,
    });
  }
  const filled = <T>(zero: T, map: (v: PlainValue) => T) => values.map((v) => (v === null ? zero : map(v)));
  const big = (v: PlainValue) => BigInt(v as bigint | number);
  const num = (v: PlainValue) => Number(v);
  return create(ColumnDataSchema, { values: scalarValues(type.scalar, filled, big, num), nullIndexes });
}

/** Only the case of `scalar` is built: converting every value to every type would fail (BigInt("a")). */
function scalarValues(
  scalar: ScalarType,
  filled: <T>(zero: T, map: (v: PlainValue) => T) => T[],
  big: (v: PlainValue) => bigint,
  num: (v: PlainValue) => number,
): ColumnData["values"] {
  switch (scalar) {
    case ScalarType.BOOL:
      return { case: "bools", value: { values: filled(false, (v) => v === true) } } as ColumnData["values"];
    case ScalarType.INT32:
      return { case: "int32s", value: { values: filled(0, num) } } as ColumnData["values"];
    case ScalarType.INT64:
      return { case: "int64s", value: { values: filled(0n, big) } } as ColumnData["values"];
    case ScalarType.FLOAT:
      return { case: "floats", value: { values: filled(0, num) } } as ColumnData["values"];
    case ScalarType.DOUBLE:
      return { case: "doubles", value: { values: filled(0, num) } } as ColumnData["values"];
    case ScalarType.BYTES:
      return { case: "bytes", value: { values: filled(new Uint8Array(), (v) => v as Uint8Array) } } as ColumnData["values"];
    case ScalarType.TIMESTAMP:
      return { case: "timestamps", value: { values: filled(0n, big) } } as ColumnData["values"];
    case ScalarType.DATE:
      return { case: "dates", value: { values: filled(0, num) } } as ColumnData["values"];
    default:
      return { case: "strings", value: { values: filled("", String) } } as ColumnData["values"];
  }
}

/** A JavaScript value as a protobuf Value of `type` (unset kind for null). */
export function valueOf(type: DataType, v: PlainValue | null): Value {
  if (v === null) return create(ValueSchema, {});
  if (type.list) {
    const item = { ...type, list: false } as DataType;
    return create(ValueSchema, { kind: { case: "listValue", value: { values: (v as readonly PlainValue[]).map((x) => valueOf(item, x)) } } });
  }
  switch (type.scalar) {
    case ScalarType.BOOL:
      return create(ValueSchema, { kind: { case: "boolValue", value: v === true } });
    case ScalarType.INT32:
      return create(ValueSchema, { kind: { case: "int32Value", value: Number(v) } });
    case ScalarType.INT64:
      return create(ValueSchema, { kind: { case: "int64Value", value: BigInt(v as bigint | number) } });
    case ScalarType.FLOAT:
      return create(ValueSchema, { kind: { case: "floatValue", value: Number(v) } });
    case ScalarType.DOUBLE:
      return create(ValueSchema, { kind: { case: "doubleValue", value: Number(v) } });
    case ScalarType.BYTES:
      return create(ValueSchema, { kind: { case: "bytesValue", value: v as Uint8Array } });
    case ScalarType.TIMESTAMP: {
      const micros = BigInt(v as bigint | number);
      const ts = timestampFromMs(Number(micros / 1000n));
      ts.nanos = Number(((micros % 1_000_000n) + 1_000_000n) % 1_000_000n) * 1000;
      return create(ValueSchema, { kind: { case: "timestampValue", value: ts } });
    }
    case ScalarType.DATE:
      return create(ValueSchema, { kind: { case: "dateValue", value: Number(v) } });
    default:
      return create(ValueSchema, { kind: { case: "stringValue", value: String(v) } });
  }
}
