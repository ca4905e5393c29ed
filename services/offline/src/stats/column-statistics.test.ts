import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ScalarType, type DataType } from "@granary/proto/types";
import { DuckEngine } from "../duck/index.js";
import { computeStatistics } from "./column-statistics.js";

let engine: DuckEngine;
const root = mkdtempSync(join(tmpdir(), "granary-stats-"));
beforeAll(async () => {
  engine = await DuckEngine.open({ dataRoot: root, threads: 1, memoryLimit: "128MB", maxQueries: 1 });
});
afterAll(() => {
  engine.close();
  rmSync(root, { recursive: true, force: true });
});

const double = { scalar: ScalarType.DOUBLE, list: false, dimension: 0 } as DataType;

describe("computeStatistics", () => {
  it("counts ±Infinity and NaN but describes only the finite values", async () => {
    const stats = await engine.withConnection(async (c) => {
      await c.run(`CREATE TEMP TABLE t AS SELECT * FROM (VALUES (1.0::DOUBLE), (3.0), ('inf'::DOUBLE), ('-inf'::DOUBLE), ('nan'::DOUBLE), (NULL)) v(x)`);
      return computeStatistics(c, "t", [{ name: "x", type: double }], { histograms: true, bins: 2 });
    });
    const [x] = stats.columns;
    expect(stats.rowCount).toBe(6n);
    expect(x!.count).toBe(5n);
    expect(x!.nullCount).toBe(1n);
    expect([x!.min, x!.max, x!.mean, x!.stddev, x!.p50]).toEqual([1, 3, 2, 1, 2]);
    expect(x!.histogram.reduce((n, b) => n + b.count, 0n)).toBe(2n);
  });

  it("leaves the numeric statistics out when no value is finite", async () => {
    const stats = await engine.withConnection(async (c) => {
      await c.run(`CREATE TEMP TABLE u AS SELECT * FROM (VALUES ('inf'::DOUBLE), ('nan'::DOUBLE)) v(x)`);
      return computeStatistics(c, "u", [{ name: "x", type: double }], { histograms: true });
    });
    const [x] = stats.columns;
    expect(x!.count).toBe(2n);
    expect([x!.min, x!.max, x!.mean, x!.stddev, x!.p25]).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(x!.histogram).toEqual([]);
  });

  it("computes Pearson correlations of numeric column pairs when asked, unset where undefined", async () => {
    const int64 = { scalar: ScalarType.INT64, list: false, dimension: 0 } as DataType;
    const text = { scalar: ScalarType.STRING, list: false, dimension: 0 } as DataType;
    const cols = [
      { name: "x", type: double },
      { name: "y", type: int64 },
      { name: "z", type: double },
      { name: "s", type: text },
      { name: "k", type: double },
    ];
    const { with: on, without: off } = await engine.withConnection(async (c) => {
      await c.run(
        `CREATE TEMP TABLE w AS SELECT * FROM (VALUES (1.0::DOUBLE, 2::BIGINT, 3.0::DOUBLE, 'a', 7.0::DOUBLE), (2.0, 4, 1.0, 'b', 7.0), (3.0, 6, 2.0, 'c', 7.0), ('inf'::DOUBLE, 0, 100.0, 'd', 7.0)) v(x, y, z, s, k)`,
      );
      return {
        with: await computeStatistics(c, "w", cols, { histograms: false, correlations: true }),
        without: await computeStatistics(c, "w", cols, { histograms: false }),
      };
    });
    expect(off.correlations).toEqual([]);
    const r = (a: string, b: string) => on.correlations.find((p) => p.columnA === a && p.columnB === b)?.coefficient;
    expect(on.correlations.map((p) => `${p.columnA}/${p.columnB}`)).toEqual(["x/y", "x/z", "x/k", "y/z", "y/k", "z/k"]);
    // The row with x = Infinity is left out of pairs with x only.
    expect(r("x", "y")).toBeCloseTo(1, 12);
    expect(r("x", "z")).toBeCloseTo(-0.5, 12);
    expect(r("y", "z")).toBeLessThan(0);
    // k is constant: undefined, not NaN.
    expect(r("x", "k")).toBeUndefined();
  });
});
