import * as arrow from "apache-arrow";
import type { PlainValue } from "@granary/cel";
import { ScalarType, type DataType } from "@granary/proto/types";
import { arrowTypeOf } from "./arrow-types.js";

/**
 * Row i of an Arrow column as Granary holds values in JavaScript (the shape @granary/cel's toCel
 * takes): int64 as bigint, timestamps as microseconds (bigint), dates as days, null for null.
 */
export function valueReader(data: arrow.Data, type: DataType): (i: number) => PlainValue | null {
  const valid = (i: number) =>
    data.nullCount === 0 ||
    data.nullBitmap === undefined ||
    data.nullBitmap.length === 0 ||
    ((data.nullBitmap[(data.offset + i) >>> 3]! >>> ((data.offset + i) & 7)) & 1) === 1;
  if (type.list) {
    const vector = arrow.makeVector(data);
    const item = valueReaderOfVector(type);
    return (i) => (valid(i) ? item(vector.get(i) as arrow.Vector) : null);
  }
  const values = data.values as ArrayLike<number | bigint>;
  const o = data.offset;
  switch (type.scalar) {
    case ScalarType.INT64:
    case ScalarType.TIMESTAMP:
    case ScalarType.INT32:
    case ScalarType.FLOAT:
    case ScalarType.DOUBLE:
    case ScalarType.DATE:
      // Fixed-width values are sliced with the data; validity and bool bits are not.
      return (i) => (valid(i) ? (values[i] as number | bigint) : null);
    case ScalarType.BOOL: {
      const bits = data.values as Uint8Array;
      return (i) => (valid(i) ? ((bits[(o + i) >>> 3]! >>> ((o + i) & 7)) & 1) === 1 : null);
    }
    default: {
      const vector = arrow.makeVector(data);
      return (i) => (valid(i) ? (vector.get(i) as string | Uint8Array) : null);
    }
  }
}

function valueReaderOfVector(type: DataType): (v: arrow.Vector) => PlainValue {
  return (v) => {
    const out: PlainValue[] = [];
    const data = v.data[0];
    if (!data) return out;
    const read = valueReader(data, { ...type, list: false } as DataType);
    for (let i = 0; i < v.length; i++) out.push(read(i) ?? (0 as PlainValue));
    return out;
  };
}

/** An Arrow column of `type` from JavaScript values (null for null), for computed columns. */
export function buildColumn(type: DataType, values: readonly (PlainValue | null)[]): arrow.Data {
  const n = values.length;
  const bitmap = new Uint8Array(Math.ceil(n / 8));
  let nulls = 0;
  values.forEach((v, i) => {
    if (v === null || v === undefined) nulls++;
    else bitmap[i >>> 3]! |= 1 << (i & 7);
  });
  const arrowType = arrowTypeOf(type);
  if (type.list) {
    const item = { ...type, list: false } as DataType;
    const offsets = new Int32Array(n + 1);
    const flat: PlainValue[] = [];
    values.forEach((v, i) => {
      if (v !== null) for (const x of v as readonly PlainValue[]) flat.push(x);
      offsets[i + 1] = flat.length;
    });
    return arrow.makeData({
      type: arrowType as arrow.List,
      length: n,
      nullCount: nulls,
      nullBitmap: bitmap,
      valueOffsets: offsets,
      child: buildColumn(item, flat),
    });
  }
  switch (type.scalar) {
    case ScalarType.INT64:
    case ScalarType.TIMESTAMP: {
      const data = new BigInt64Array(n);
      values.forEach((v, i) => v !== null && (data[i] = BigInt(v as bigint | number)));
      return arrow.makeData({ type: arrowType, length: n, nullCount: nulls, nullBitmap: bitmap, data } as never) as arrow.Data;
    }
    case ScalarType.INT32:
    case ScalarType.DATE: {
      const data = new Int32Array(n);
      values.forEach((v, i) => v !== null && (data[i] = Number(v)));
      return arrow.makeData({ type: arrowType, length: n, nullCount: nulls, nullBitmap: bitmap, data } as never) as arrow.Data;
    }
    case ScalarType.FLOAT:
    case ScalarType.DOUBLE: {
      const data = type.scalar === ScalarType.FLOAT ? new Float32Array(n) : new Float64Array(n);
      values.forEach((v, i) => v !== null && (data[i] = Number(v)));
      return arrow.makeData({ type: arrowType, length: n, nullCount: nulls, nullBitmap: bitmap, data } as never) as arrow.Data;
    }
    case ScalarType.BOOL: {
      const data = new Uint8Array(Math.ceil(n / 8));
      values.forEach((v, i) => v === true && (data[i >>> 3]! |= 1 << (i & 7)));
      return arrow.makeData({ type: new arrow.Bool(), length: n, nullCount: nulls, nullBitmap: bitmap, data });
    }
    default: {
      const encoder = new TextEncoder();
      const parts = values.map((v) => (v === null ? new Uint8Array(0) : v instanceof Uint8Array ? v : encoder.encode(String(v))));
      const offsets = new Int32Array(n + 1);
      parts.forEach((p, i) => (offsets[i + 1] = offsets[i]! + p.byteLength));
      const data = new Uint8Array(offsets[n]!);
      parts.forEach((p, i) => data.set(p, offsets[i]!));
      return arrow.makeData({ type: arrowType as arrow.Utf8, length: n, nullCount: nulls, nullBitmap: bitmap, valueOffsets: offsets, data });
    }
  }
}
