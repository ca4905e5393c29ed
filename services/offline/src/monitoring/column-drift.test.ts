import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { DriftStatus, DriftThresholdsSchema, FeatureDriftThresholdsSchema, MonitoringConfigSchema } from "@granary/proto/metadata";
import { DataTypeSchema, ScalarType } from "@granary/proto/types";
import { seededRandom } from "@granary/testing";
import { DuckEngine, quoteString } from "../duck/index.js";
import { columnDrift } from "./column-drift.js";
import { DEFAULT_THRESHOLDS, featureStatus, psi, thresholdsFor, worstStatus } from "./drift-math.js";

let engine: DuckEngine;
const root = mkdtempSync(join(tmpdir(), "granary-drift-"));
beforeAll(async () => {
  engine = await DuckEngine.open({ dataRoot: root, threads: 1, memoryLimit: "128MB", maxQueries: 1 });
});
afterAll(() => {
  engine.close();
  rmSync(root, { recursive: true, force: true });
});

const T = (scalar: ScalarType, list = false) => create(DataTypeSchema, { scalar, list });

/** Writes values of one column `v` to a Parquet file and returns a relation reading it. */
async function parquet(name: string, values: readonly (number | string | boolean | null)[], sqlType: string): Promise<string> {
  const path = join(root, `${name}.parquet`);
  const literal = (v: number | string | boolean | null) => (v === null ? "NULL" : typeof v === "string" ? quoteString(v) : String(v));
  const rows = values.map((v) => `(${literal(v)}::${sqlType})`).join(", ");
  await engine.withConnection((c) => c.run(`COPY (SELECT * FROM (VALUES ${rows}) t(v)) TO ${quoteString(path)} (FORMAT parquet)`));
  return `read_parquet(${quoteString(path)})`;
}

// Reference implementations, written from the definitions, independent of the SQL.
function ksReference(a: readonly number[], b: readonly number[]): number {
  const xs = [...new Set([...a, ...b])].sort((p, q) => p - q);
  const cdf = (s: readonly number[], x: number) => s.filter((v) => v <= x).length / s.length;
  return Math.max(...xs.map((x) => Math.abs(cdf(a, x) - cdf(b, x))));
}
/** quantile_cont: linear interpolation between the order statistics at (n − 1) · p. */
function quantile(sorted: readonly number[], p: number): number {
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  return sorted[lo]! + (h - lo) * ((sorted[Math.min(lo + 1, sorted.length - 1)] ?? 0) - sorted[lo]!);
}
function numericPsiReference(ref: readonly number[], act: readonly number[]): number {
  const sorted = [...ref].sort((p, q) => p - q);
  const edges = [...new Set([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9].map((p) => quantile(sorted, p)))].sort((p, q) => p - q);
  const hist = (s: readonly number[]) => {
    const h = new Array<number>(edges.length + 1).fill(0);
    for (const v of s) {
      const i = edges.findIndex((e) => v <= e);
      h[i === -1 ? edges.length : i]! += 1;
    }
    return h;
  };
  return psi(hist(ref), hist(act))!;
}

describe("psi", () => {
  it("matches the hand-computed value", () => {
    // (0.8 − 0.5) ln(0.8 / 0.5) + (0.2 − 0.5) ln(0.2 / 0.5)
    expect(psi([50, 50], [80, 20])).toBeCloseTo(0.3 * Math.log(1.6) + -0.3 * Math.log(0.4), 12);
    expect(psi([50, 50], [80, 20])).toBeCloseTo(0.415888, 5);
  });
  it("gives an empty bin a share of 1e-4", () => {
    // e = [1, 1e-4], a = [0.5, 0.5]
    expect(psi([100, 0], [50, 50])).toBeCloseTo((0.5 - 1) * Math.log(0.5) + (0.5 - 1e-4) * Math.log(0.5 / 1e-4), 12);
  });
  it("is zero for the same distribution and undefined without values", () => {
    expect(psi([10, 20, 30], [20, 40, 60])).toBe(0);
    expect(psi([0, 0], [1, 2])).toBeUndefined();
  });
});

describe("columnDrift on Parquet files", () => {
  const random = seededRandom(21);
  const normal = (mean: number, sd: number) => mean + sd * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());

  it("computes KS and decile PSI of numbers as the reference implementations do, ties included", async () => {
    const ref = Array.from({ length: 400 }, () => Math.round(normal(50, 10)));
    const act = Array.from({ length: 300 }, () => Math.round(normal(55, 12)));
    const [r, a] = [await parquet("num_ref", ref, "BIGINT"), await parquet("num_act", act, "BIGINT")];
    const m = await engine.withConnection((c) => columnDrift(c, r, a, { name: "v", type: T(ScalarType.INT64) }));
    expect(m.kind).toBe("numeric");
    expect(m.ks).toBeCloseTo(ksReference(ref, act), 12);
    expect(m.psi).toBeCloseTo(numericPsiReference(ref, act), 10);
    expect(m.psi!).toBeGreaterThan(0.05);
    expect([m.rows, m.values, m.referenceRows, m.referenceValues]).toEqual([300, 300, 400, 400]);
  });

  it("puts values beyond the reference's range in the end bins and counts nulls", async () => {
    const ref = [...Array.from({ length: 100 }, (_, i) => i), null, null, null, null];
    const act = [...Array.from({ length: 50 }, (_, i) => 1000 + i), ...Array.from({ length: 50 }, (_, i) => -1000 - i), null];
    const [r, a] = [await parquet("out_ref", ref, "DOUBLE"), await parquet("out_act", act, "DOUBLE")];
    const m = await engine.withConnection((c) => columnDrift(c, r, a, { name: "v", type: T(ScalarType.DOUBLE) }));
    const numbers = (s: readonly (number | null)[]) => s.filter((v): v is number => v !== null);
    expect(m.psi).toBeCloseTo(numericPsiReference(numbers(ref), numbers(act)), 10);
    expect(m.ks).toBeCloseTo(0.5, 12);
    expect(m.referenceNullShare).toBeCloseTo(4 / 104, 12);
    expect(m.nullShare).toBeCloseTo(1 / 101, 12);
  });

  it("compares categories over the reference's top 20 plus one bin for the rest", async () => {
    // 25 reference categories: c0..c19 kept, c20..c24 (the least frequent) go to the rest.
    const ref = Array.from({ length: 25 }, (_, i) => Array<string>(i < 20 ? 10 : 2).fill(`c${i}`)).flat();
    const act = [...Array<string>(100).fill("c0"), ...Array<string>(100).fill("new"), ...Array<string>(10).fill("c24")];
    const [r, a] = [await parquet("cat_ref", ref, "VARCHAR"), await parquet("cat_act", act, "VARCHAR")];
    const m = await engine.withConnection((c) => columnDrift(c, r, a, { name: "v", type: T(ScalarType.STRING) }));
    const refHist = [10, ...Array<number>(20).fill(10)];
    const actHist = [110, 100, ...Array<number>(19).fill(0)];
    expect(m.kind).toBe("categorical");
    expect(m.ks).toBeUndefined();
    expect(m.psi).toBeCloseTo(psi(refHist, actHist)!, 12);
  });

  it("compares only the share of nulls of a list column", async () => {
    const m = await engine.withConnection(async (c) => {
      await c.run("CREATE TEMP TABLE lr AS SELECT CASE WHEN i % 10 = 0 THEN NULL ELSE [i::FLOAT, 1.0] END AS v FROM range(100) r(i)");
      await c.run("CREATE TEMP TABLE la AS SELECT CASE WHEN i % 2 = 0 THEN NULL ELSE [i::FLOAT, 1.0] END AS v FROM range(100) r(i)");
      return columnDrift(c, "lr", "la", { name: "v", type: T(ScalarType.FLOAT, true) });
    });
    expect(m).toMatchObject({ kind: "nulls", distribution: false, nullShare: 0.5, referenceNullShare: 0.1 });
    expect([m.psi, m.ks]).toEqual([undefined, undefined]);
    expect(featureStatus(m, DEFAULT_THRESHOLDS)).toEqual({ status: DriftStatus.DRIFT, exceeded: ["null_share_increase"] });
  });
});

describe("status", () => {
  const measures = {
    psi: 0.1,
    ks: 0.1,
    nullShare: 0,
    referenceNullShare: 0,
    rows: 100,
    referenceRows: 100,
    values: 100,
    referenceValues: 100,
    distribution: true,
  };

  it("flags each statistic over its threshold, and only checks the thresholds that are set", () => {
    expect(featureStatus(measures, DEFAULT_THRESHOLDS)).toEqual({ status: DriftStatus.OK, exceeded: [] });
    expect(featureStatus({ ...measures, psi: 0.3, ks: 0.25 }, DEFAULT_THRESHOLDS).exceeded).toEqual(["psi", "ks"]);
    expect(featureStatus({ ...measures, psi: 0.3 }, create(DriftThresholdsSchema, { ks: 0.2 })).status).toBe(DriftStatus.OK);
    expect(featureStatus({ ...measures, nullShare: 0.25, referenceNullShare: 0.1 }, DEFAULT_THRESHOLDS).exceeded).toEqual(["null_share_increase"]);
  });

  it("is INSUFFICIENT_DATA under 30 values on a side, unless the share of nulls already drifted", () => {
    expect(featureStatus({ ...measures, values: 29 }, DEFAULT_THRESHOLDS).status).toBe(DriftStatus.INSUFFICIENT_DATA);
    expect(featureStatus({ ...measures, referenceValues: 29, psi: 5 }, DEFAULT_THRESHOLDS).status).toBe(DriftStatus.INSUFFICIENT_DATA);
    expect(featureStatus({ ...measures, values: 10, nullShare: 0.9 }, DEFAULT_THRESHOLDS)).toEqual({
      status: DriftStatus.DRIFT,
      exceeded: ["null_share_increase"],
    });
    expect(featureStatus({ ...measures, rows: 10, values: 10, nullShare: 0.9 }, DEFAULT_THRESHOLDS).status).toBe(DriftStatus.INSUFFICIENT_DATA);
  });

  it("takes a feature's own thresholds, else the view's defaults, else 0.2 / 0.2 / 0.1", () => {
    const config = create(MonitoringConfigSchema, {
      defaultThresholds: { psi: 1 },
      features: [create(FeatureDriftThresholdsSchema, { column: "amount", thresholds: { ks: 0.5 } })],
    });
    expect(thresholdsFor(config, "amount")).toMatchObject({ ks: 0.5 });
    expect(thresholdsFor(config, "amount").psi).toBeUndefined();
    expect(thresholdsFor(config, "other")).toMatchObject({ psi: 1 });
    expect(thresholdsFor(config, "other").ks).toBeUndefined();
    expect(thresholdsFor(undefined, "x")).toMatchObject({ psi: 0.2, ks: 0.2, nullShareIncrease: 0.1 });
  });

  it("reports the worst status: DRIFT, then INSUFFICIENT_DATA, then OK", () => {
    expect(worstStatus([DriftStatus.OK, DriftStatus.INSUFFICIENT_DATA], DriftStatus.OK)).toBe(DriftStatus.INSUFFICIENT_DATA);
    expect(worstStatus([DriftStatus.INSUFFICIENT_DATA, DriftStatus.DRIFT, DriftStatus.OK], DriftStatus.OK)).toBe(DriftStatus.DRIFT);
    expect(worstStatus([], DriftStatus.INSUFFICIENT_DATA)).toBe(DriftStatus.INSUFFICIENT_DATA);
  });
});
