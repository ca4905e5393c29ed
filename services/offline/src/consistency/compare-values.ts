import type { PlainValue } from "@granary/cel";
import { ScalarType, type DataType } from "@granary/proto/types";

/** How close two floats must be: |a - b| <= absolute + relative * max(|a|, |b|). */
export interface Tolerance {
  readonly relative: number;
  readonly absolute: number;
}

export const DEFAULT_TOLERANCE: Tolerance = { relative: 1e-9, absolute: 0 };

/**
 * Whether an online and an offline value are the same. Floats within the tolerance (NaN equals
 * NaN: both paths computed the same nothing); everything else exactly, lists item by item. Null
 * equals only null.
 */
export function sameValue(type: DataType, a: PlainValue | null, b: PlainValue | null, tolerance: Tolerance): boolean {
  if (a === null || b === null) return a === b;
  if (type.list) {
    const x = a as readonly PlainValue[];
    const y = b as readonly PlainValue[];
    const item = { ...type, list: false } as DataType;
    return x.length === y.length && x.every((v, i) => sameValue(item, v, y[i] ?? null, tolerance));
  }
  switch (type.scalar) {
    case ScalarType.FLOAT:
    case ScalarType.DOUBLE:
      return closeEnough(Number(a), Number(b), tolerance);
    case ScalarType.INT32:
    case ScalarType.INT64:
    case ScalarType.TIMESTAMP:
    case ScalarType.DATE:
      return BigInt(a as bigint | number) === BigInt(b as bigint | number);
    case ScalarType.BYTES:
      return bytesEqual(a as Uint8Array, b as Uint8Array);
    default:
      return a === b;
  }
}

function closeEnough(a: number, b: number, t: Tolerance): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (a === b) return true;
  return Math.abs(a - b) <= t.absolute + t.relative * Math.max(Math.abs(a), Math.abs(b));
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((v, i) => v === b[i]);
}
