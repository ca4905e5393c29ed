import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ScalarType, type DataType } from "@granary/proto/types";
import { DuckEngine } from "../engine/duckdb-engine.js";
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
});
