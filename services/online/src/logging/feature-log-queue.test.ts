import { describe, expect, it } from "@jest/globals";
import { create } from "@bufbuild/protobuf";
import { FeatureViewSchema } from "@granary/proto/metadata";
import type { EntityRows } from "@granary/proto/online";
import { DataTypeSchema, ScalarType, type ColumnData } from "@granary/proto/types";
import { seededRandom } from "@granary/testing";
import { ColumnBuilder } from "../vectors/column-builder.js";
import type { LookupResult } from "../vectors/encode-vectors.js";
import type { ViewPlan } from "../vectors/view-plan.js";
import { FeatureLogQueue } from "./feature-log-queue.js";

const DOUBLE = create(DataTypeSchema, { scalar: ScalarType.DOUBLE });
const INT64 = create(DataTypeSchema, { scalar: ScalarType.INT64 });
const served = { model: "", modelVersion: 0, trainingDatasetVersion: 0 };

function planOf(sampleRate: number, onlineEnabled = true): ViewPlan {
  const view = create(FeatureViewSchema, { project: "p", name: "v", version: 1, logging: { onlineEnabled, sampleRate } });
  return { view, servingKeyTypes: new Map([["id", INT64]]), onDemand: [] } as unknown as ViewPlan;
}

function lookup(ids: number[], transformed = false): { entities: EntityRows; result: LookupResult } {
  const n = ids.length;
  const amount = new ColumnBuilder(DOUBLE, n);
  ids.forEach((id, r) => (id % 2 === 0 ? amount.set(r, id * 1.5) : amount.set(r, null)));
  const scaled = new ColumnBuilder(DOUBLE, n);
  ids.forEach((id, r) => scaled.set(r, id / 100));
  const entities = {
    rowCount: n,
    servingKeys: [{ name: "id", data: { values: { case: "int64s", value: { values: ids.map(BigInt) } }, nullIndexes: [] } as unknown as ColumnData }],
    requestParameters: [],
    passedFeatures: [],
  } as unknown as EntityRows;
  const plain = [{ name: "amount", builder: amount }];
  const result: LookupResult = transformed
    ? { rowCount: n, columns: [{ name: "amount", builder: scaled }], eventTimes: [], untransformed: plain }
    : { rowCount: n, columns: plain, eventTimes: [] };
  return { entities, result };
}

const valuesOf = (data: ColumnData | undefined) => (data?.values.value as { values: unknown[] }).values;

describe("FeatureLogQueue", () => {
  it("queues copies of every vector at rate 1, batched per view with keys, features and nulls", () => {
    const q = new FeatureLogQueue(100);
    const { entities, result } = lookup([2, 3, 4]);
    q.offer("p", planOf(1), entities, result, served);
    // The lookup's columns are reused by the next request: the queue must hold copies.
    result.columns[0]!.builder.reset();
    expect(q.queued).toBe(3);
    const [batch, ...rest] = q.take(1000);
    expect(rest).toEqual([]);
    expect(batch!.rowCount).toBe(3);
    expect(valuesOf(batch!.columns.servingKeys[0]!.data)).toEqual([2n, 3n, 4n]);
    const amount = batch!.columns.untransformed[0]!;
    expect(amount.name).toBe("amount");
    expect(valuesOf(amount.data)).toEqual([3, 0, 6]);
    expect(amount.data!.nullIndexes).toEqual([1]);
    expect(q.queued).toBe(3);
    q.settle(batch!, true);
    expect([q.logged, q.dropped, q.queued]).toEqual([3, 0, 0]);
  });

  it("logs transformed and untransformed columns apart when the lookup transformed", () => {
    const q = new FeatureLogQueue(100);
    const { entities, result } = lookup([2], true);
    q.offer("p", planOf(1), entities, result, served);
    const [batch] = q.take(1000);
    expect(valuesOf(batch!.columns.untransformed[0]!.data)).toEqual([3]);
    expect(valuesOf(batch!.columns.transformed[0]!.data)).toEqual([0.02]);
  });

  it("ignores a view that does not log online", () => {
    const q = new FeatureLogQueue(100);
    const { entities, result } = lookup([1, 2]);
    q.offer("p", planOf(1, false), entities, result, served);
    expect(q.queued).toBe(0);
  });

  it("samples at the view's rate", () => {
    const q = new FeatureLogQueue(100_000, seededRandom(42));
    const ids = Array.from({ length: 1000 }, (_, i) => i);
    for (let i = 0; i < 10; i++) {
      const { entities, result } = lookup(ids);
      q.offer("p", planOf(0.1), entities, result, served);
    }
    expect(q.queued).toBeGreaterThan(900);
    expect(q.queued).toBeLessThan(1100);
  });

  it("drops and counts what does not fit; failed batches count as dropped; batches respect the size", () => {
    const q = new FeatureLogQueue(5);
    const { entities, result } = lookup([1, 2, 3, 4, 5, 6, 7, 8]);
    q.offer("p", planOf(1), entities, result, served);
    expect([q.queued, q.dropped]).toEqual([5, 3]);
    q.offer("p", planOf(1), entities, result, served);
    expect([q.queued, q.dropped]).toEqual([5, 11]);
    const batches = q.take(2);
    expect(batches.map((b) => b.rowCount)).toEqual([2, 2, 1]);
    // Taken but unsettled vectors still fill the queue.
    q.offer("p", planOf(1), entities, result, served);
    expect(q.dropped).toBe(19);
    for (const b of batches) q.settle(b, false);
    expect([q.queued, q.dropped, q.logged]).toEqual([0, 24, 0]);
  });
});
