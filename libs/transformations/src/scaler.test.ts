import { describe, expect, it } from "@jest/globals";
import { create } from "@bufbuild/protobuf";
import { ColumnStatisticsSchema, TransformationFunction } from "@granary/proto/metadata";
import { fitTransformation } from "./fit-transformation.js";
import { Scaler } from "./scaler.js";

type StatsInit = { min?: number; max?: number; mean?: number; stddev?: number; p25?: number; p50?: number; p75?: number };

function scaler(fn: TransformationFunction, init: StatsInit): Scaler {
  const fitted = fitTransformation(fn, create(ColumnStatisticsSchema, { column: "x", ...init }), "x");
  if (!(fitted instanceof Scaler)) throw new Error("expected a Scaler");
  return fitted;
}

const minMax = scaler(TransformationFunction.MIN_MAX_SCALER, { min: 10, max: 30 });
const standard = scaler(TransformationFunction.STANDARD_SCALER, { mean: 5, stddev: 2 });
const robust = scaler(TransformationFunction.ROBUST_SCALER, { p25: 2, p50: 4, p75: 10 });

describe("Scaler.applyNumber", () => {
  it("min_max_scaler: (x - min) / (max - min)", () => {
    expect(minMax.outputKind).toBe("double");
    expect([10, 15, 30, 40, 0].map((x) => minMax.applyNumber(x))).toEqual([0, 0.25, 1, 1.5, -0.5]);
  });

  it("standard_scaler: (x - mean) / stddev", () => {
    expect([5, 9, 1, 6].map((x) => standard.applyNumber(x))).toEqual([0, 2, -2, 0.5]);
  });

  it("robust_scaler: (x - p50) / (p75 - p25)", () => {
    expect([4, 12, 0, 6].map((x) => robust.applyNumber(x))).toEqual([0, 1, -0.5, 0.25]);
  });

  it("matches the formula bit for bit where the quotient is not exact", () => {
    const s = scaler(TransformationFunction.MIN_MAX_SCALER, { min: 0.1, max: 0.7 });
    expect(s.applyNumber(0.3)).toBe((0.3 - 0.1) / (0.7 - 0.1));
  });

  it("maps everything to 0 when the training column was constant", () => {
    const degenerate = [
      scaler(TransformationFunction.MIN_MAX_SCALER, { min: 3, max: 3 }),
      scaler(TransformationFunction.STANDARD_SCALER, { mean: 3, stddev: 0 }),
      scaler(TransformationFunction.ROBUST_SCALER, { p25: 3, p50: 3, p75: 3 }),
    ];
    for (const s of degenerate) {
      expect([3, -1e9, 7.5, Number.NaN].map((x) => s.applyNumber(x))).toEqual([0, 0, 0, 0]);
      const out = new Float64Array([9, 9, 9]);
      s.applyColumn(new Int32Array([3, 4, 5]), undefined, out);
      expect([...out]).toEqual([0, 0, 0]);
    }
  });
});

describe("Scaler.inverseNumber", () => {
  it("round-trips", () => {
    for (const s of [minMax, standard, robust]) {
      for (const x of [-3, 0, 4, 10, 12.5, 1e6]) expect(s.inverseNumber(s.applyNumber(x))).toBeCloseTo(x, 9);
    }
    expect(minMax.inverseNumber(0.25)).toBe(15);
    expect(standard.inverseNumber(-2)).toBe(1);
    expect(robust.inverseNumber(1)).toBe(12);
  });

  it("gives the constant training value when the scale is 0", () => {
    expect(scaler(TransformationFunction.STANDARD_SCALER, { mean: 3, stddev: 0 }).inverseNumber(0)).toBe(3);
  });
});

describe("Scaler.applyColumn", () => {
  it("transforms Float64Array, Float32Array, Int32Array, number[] and bigint[] alike", () => {
    const expected = [0, 0.25, 1, 1.5, -0.5];
    const inputs = [
      new Float64Array([10, 15, 30, 40, 0]),
      new Float32Array([10, 15, 30, 40, 0]),
      new Int32Array([10, 15, 30, 40, 0]),
      [10, 15, 30, 40, 0],
      [10n, 15n, 30n, 40n, 0n],
    ];
    for (const input of inputs) {
      const out = new Float64Array(5);
      minMax.applyColumn(input, undefined, out);
      expect([...out]).toEqual(expected);
    }
  });

  it("reads BigInt64Array as Number() does, negatives, beyond 2^53 and from a slice included", () => {
    const values = [
      0n,
      1n,
      -1n,
      42n,
      -(2n ** 31n),
      2n ** 32n,
      -(2n ** 32n) - 1n,
      2n ** 53n + 1n,
      -(2n ** 53n) - 3n,
      2n ** 63n - 1n,
      -(2n ** 63n),
      123456789012345678n,
    ];
    const backing = new BigInt64Array(values.length + 3);
    backing.set(values, 2);
    const input = backing.subarray(2, 2 + values.length);
    const identity = scaler(TransformationFunction.STANDARD_SCALER, { mean: 0, stddev: 1 });
    const out = new Float64Array(values.length);
    identity.applyColumn(input, undefined, out);
    expect([...out]).toEqual(values.map((v) => Number(v)));

    const scaled = new Float64Array(3);
    standard.applyColumn(new BigInt64Array([5n, 9n, 1n]), undefined, scaled);
    expect([...scaled]).toEqual([0, 2, -2]);
  });

  it("leaves nulls null: null rows hold 0 whatever the validity form", () => {
    const input = new Int32Array([10, 0, 30, 0, 15]);
    const expected = [0, 0, 1, 0, 0.25];
    const bitmap = new Uint8Array([0b0001_0101 << 3, 0]); // rows 0, 2, 4 valid, starting at bit 3
    const validities = [
      new Uint8Array([1, 0, 1, 0, 1]),
      new Uint8Array([1, 2, 1, 3, 1]), // ValueStatus: PRESENT, NULL, PRESENT, NOT_FOUND, PRESENT
      { bitmap, offset: 3 },
      (i: number) => i % 2 === 0,
    ];
    for (const validity of validities) {
      const out = new Float64Array(5).fill(Number.NaN);
      minMax.applyColumn(input, validity, out);
      expect([...out]).toEqual(expected);
    }
  });

  it("treats an empty bitmap as no nulls, as Arrow does", () => {
    const out = new Float64Array(2);
    minMax.applyColumn([10, 30], { bitmap: new Uint8Array(0) }, out);
    expect([...out]).toEqual([0, 1]);
  });

  it("writes only the first input.length slots", () => {
    const out = new Float64Array([7, 7, 7, 7]);
    minMax.applyColumn([30, 10], undefined, out);
    expect([...out]).toEqual([1, 0, 7, 7]);
  });

  it("rejects an output or validity too short for the input", () => {
    expect(() => minMax.applyColumn([1, 2, 3], undefined, new Float64Array(2))).toThrow(RangeError);
    expect(() => minMax.applyColumn([1, 2, 3], new Uint8Array(2), new Float64Array(3))).toThrow(RangeError);
    expect(() => minMax.applyColumn(new Float64Array(9), { bitmap: new Uint8Array(1) }, new Float64Array(9))).toThrow(RangeError);
  });
});
