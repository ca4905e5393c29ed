import { describe, expect, it } from "@jest/globals";
import { create } from "@bufbuild/protobuf";
import { ColumnStatisticsSchema, TransformationFunction } from "@granary/proto/metadata";
import { fitTransformation } from "./fit-transformation.js";
import type { NumericColumn } from "./numeric-column.js";
import { Scaler } from "./scaler.js";
import type { Validity } from "./validity.js";
import { seededRandom } from "@granary/testing";

describe("Scaler.applyColumn", () => {
  it("equals applyNumber row by row (200 random cases)", () => {
    const random = seededRandom(0x5eed);
    const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
    const pick = <T>(items: readonly T[]): T => items[int(0, items.length - 1)]!;
    const double = () => (random() - 0.5) * 10 ** int(-3, 9);
    const int64 = (): bigint =>
      random() < 0.5 ? BigInt(int(-1000, 1000)) : BigInt.asIntN(64, (BigInt(int(0, 2 ** 32 - 1)) << 32n) | BigInt(int(0, 2 ** 32 - 1)));

    for (let c = 0; c < 200; c++) {
      const fn = pick([TransformationFunction.MIN_MAX_SCALER, TransformationFunction.STANDARD_SCALER, TransformationFunction.ROBUST_SCALER]);
      const degenerate = random() < 0.1;
      const [a, b, d] = [double(), double(), double()].sort((x, y) => x - y) as [number, number, number];
      const stats = create(ColumnStatisticsSchema, {
        min: a,
        max: degenerate ? a : d,
        mean: b,
        stddev: degenerate ? 0 : Math.abs(double()),
        p25: a,
        p50: b,
        p75: degenerate ? a : d,
      });
      const scaler = fitTransformation(fn, stats, "x");
      if (!(scaler instanceof Scaler)) throw new Error("expected a Scaler");

      const n = int(0, 300);
      const kind = pick(["Float64Array", "Float32Array", "Int32Array", "number[]", "BigInt64Array", "bigint[]"] as const);
      let input: NumericColumn;
      let asNumbers: number[];
      if (kind === "BigInt64Array" || kind === "bigint[]") {
        const values = Array.from({ length: n }, int64);
        input = kind === "bigint[]" ? values : BigInt64Array.from(values);
        asNumbers = values.map((v) => Number(v));
      } else if (kind === "Int32Array") {
        input = Int32Array.from({ length: n }, () => int(-(2 ** 31), 2 ** 31 - 1));
        asNumbers = [...input];
      } else {
        const values = Array.from({ length: n }, double);
        input = kind === "number[]" ? values : kind === "Float64Array" ? Float64Array.from(values) : Float32Array.from(values);
        asNumbers = Array.from(input as ArrayLike<number>);
      }

      const valid = Array.from({ length: n }, () => random() < 0.8);
      const validity: Validity = pick([
        () => undefined,
        () => Uint8Array.from(valid, (v) => (v ? 1 : 0)),
        () => (i: number) => valid[i]!,
        () => {
          const bitmap = new Uint8Array(Math.ceil((n + 5) / 8));
          valid.forEach((v, i) => {
            if (v) bitmap[(i + 5) >>> 3]! |= 1 << ((i + 5) & 7);
          });
          return { bitmap, offset: 5 };
        },
      ])();

      const out = new Float64Array(n + int(0, 3)).fill(Number.NaN);
      scaler.applyColumn(input, validity, out);
      const expected = asNumbers.map((x, i) => (validity === undefined || valid[i] ? scaler.applyNumber(x) : 0));
      expect({ c, kind, out: [...out.subarray(0, n)] }).toEqual({ c, kind, out: expected });
    }
  });
});
