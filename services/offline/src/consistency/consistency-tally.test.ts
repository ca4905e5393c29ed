import { describe, expect, it } from "@jest/globals";
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import { ScalarType, ValueStatus, type DataType } from "@granary/proto/types";
import { DEFAULT_TOLERANCE } from "./compare-values.js";
import { recordConsistencyMetrics } from "./consistency-metrics.js";
import { ConsistencyTally, entityKey } from "./consistency-tally.js";

class TestReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

const T = (scalar: ScalarType) => ({ scalar, list: false, dimension: 0 }) as DataType;
const keys = [{ name: "id", type: T(ScalarType.INT64), values: [1n, 2n, 3n, 4n] }];
const present = (value: number | null) => ({ value, status: value === null ? ValueStatus.NULL : ValueStatus.PRESENT });

function tally(): ConsistencyTally {
  const t = new ConsistencyTally(
    [
      { name: "x", type: T(ScalarType.DOUBLE) },
      { name: "y", type: T(ScalarType.DOUBLE) },
      { name: "z", type: T(ScalarType.DOUBLE), notCompared: "needs request parameter p, not given" },
    ],
    DEFAULT_TOLERANCE,
    1,
  );
  const values: Record<string, [number | null, number | null]>[] = [
    { x: [1, 1], y: [null, null] },
    { x: [2, 3], y: [5, 6] },
  ];
  values.forEach((row, i) =>
    t.compare(
      () => entityKey(keys, i),
      (name) => ({ online: present(row[name]![0]), offline: present(row[name]![1]) }),
      i === 1,
    ),
  );
  t.missing(() => entityKey(keys, 2), true, false);
  t.missing(() => entityKey(keys, 3), false, false);
  return t;
}

describe("ConsistencyTally", () => {
  it("counts per feature, keeps the first examples, and separates entities missing on one side", () => {
    const r = tally().report({
      featureView: { $typeName: "granary.types.v1.FeatureViewRef", name: "v", version: 1 },
      modelVersion: 0,
      trainingDatasetVersion: 0,
    });
    expect([r.entitiesChecked, r.entitiesCompared, r.entitiesMismatched, r.mismatches, r.missingBoth, r.onlineRowsAhead]).toEqual([4n, 2n, 1n, 2n, 1n, 1n]);
    expect(r.features.map((f) => [f.name, f.compared, f.mismatches, f.examples.length, f.notComparedReason])).toEqual([
      ["x", 2n, 1n, 1, ""],
      ["y", 2n, 1n, 1, ""],
      ["z", 0n, 0n, 0, "needs request parameter p, not given"],
    ]);
    const example = r.features[0]!.examples[0]!;
    expect([example.entity[0]!.value?.kind.value, example.onlineValue?.kind.value, example.offlineValue?.kind.value]).toEqual([2n, 2, 3]);
    expect([r.missingOffline?.count, r.missingOffline?.examples[0]?.entity[0]?.value?.kind.value, r.missingOnline?.count]).toEqual([1n, 3n, 0n]);
  });

  it("exports the counts as OpenTelemetry counters per project, view and feature", async () => {
    const reader = new TestReader();
    const provider = new MeterProvider({ readers: [reader] });
    const report = tally().report({
      featureView: { $typeName: "granary.types.v1.FeatureViewRef", name: "v", version: 1 },
      modelVersion: 0,
      trainingDatasetVersion: 0,
    });
    recordConsistencyMetrics("p", report, provider.getMeter("granary.offline"));
    const { resourceMetrics } = await reader.collect();
    const points = new Map(
      resourceMetrics.scopeMetrics
        .flatMap((s) => s.metrics)
        .map((m) => [m.descriptor.name, m.dataPoints.map((d) => ({ attributes: d.attributes, value: d.value }))]),
    );
    expect(points.get("granary.consistency.compared")).toEqual([{ attributes: { project: "p", view: "v", view_version: 1 }, value: 2 }]);
    expect(points.get("granary.consistency.mismatches")).toEqual([
      { attributes: { project: "p", view: "v", view_version: 1, feature: "x" }, value: 1 },
      { attributes: { project: "p", view: "v", view_version: 1, feature: "y" }, value: 1 },
    ]);
    expect(points.get("granary.consistency.missing")?.find((d) => d.attributes["side"] === "offline")?.value).toBe(1);
  });
});
