import { describe, expect, it } from "@jest/globals";
import { ScalarType, type DataType } from "@granary/proto/types";
import { DEFAULT_TOLERANCE, sameValue } from "./compare-values.js";

const T = (scalar: ScalarType, list = false) => ({ scalar, list, dimension: 0 }) as DataType;

describe("sameValue", () => {
  it("compares floats within the relative and absolute tolerance", () => {
    expect(sameValue(T(ScalarType.DOUBLE), 1, 1 + 1e-12, DEFAULT_TOLERANCE)).toBe(true);
    expect(sameValue(T(ScalarType.DOUBLE), 1, 1 + 1e-6, DEFAULT_TOLERANCE)).toBe(false);
    expect(sameValue(T(ScalarType.DOUBLE), 1, 1 + 1e-12, { relative: 0, absolute: 0 })).toBe(false);
    expect(sameValue(T(ScalarType.DOUBLE), 0, 1e-7, { relative: 0, absolute: 1e-6 })).toBe(true);
    expect(sameValue(T(ScalarType.FLOAT), Number.NaN, Number.NaN, DEFAULT_TOLERANCE)).toBe(true);
    expect(sameValue(T(ScalarType.FLOAT), Number.NaN, 0, DEFAULT_TOLERANCE)).toBe(false);
  });

  it("compares integers, timestamps, strings and bytes exactly, whatever the tolerance", () => {
    const loose = { relative: 1, absolute: 1 };
    expect(sameValue(T(ScalarType.INT64), 10n, 11n, loose)).toBe(false);
    expect(sameValue(T(ScalarType.INT64), 10n, 10, loose)).toBe(true);
    expect(sameValue(T(ScalarType.TIMESTAMP), 1_000_000n, 1_000_001n, loose)).toBe(false);
    expect(sameValue(T(ScalarType.STRING), "a", "a ", loose)).toBe(false);
    expect(sameValue(T(ScalarType.BYTES), new Uint8Array([1, 2]), new Uint8Array([1, 2]), loose)).toBe(true);
  });

  it("treats null as equal only to null, and lists item by item", () => {
    expect(sameValue(T(ScalarType.INT32), null, null, DEFAULT_TOLERANCE)).toBe(true);
    expect(sameValue(T(ScalarType.INT32), null, 0, DEFAULT_TOLERANCE)).toBe(false);
    expect(sameValue(T(ScalarType.DOUBLE, true), [1, 2], [1, 2 + 1e-12], DEFAULT_TOLERANCE)).toBe(true);
    expect(sameValue(T(ScalarType.DOUBLE, true), [1, 2], [1], DEFAULT_TOLERANCE)).toBe(false);
  });
});
