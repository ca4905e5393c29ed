import { describe, expect, it } from "@jest/globals";
import { create } from "@bufbuild/protobuf";
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import { DriftStatus, MonitoringReportSchema } from "@granary/proto/metadata";
import { DriftMetrics } from "./drift-metrics.js";

class TestReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

async function points(reader: TestReader): Promise<Record<string, [string, number][]>> {
  const out: Record<string, [string, number][]> = {};
  const { resourceMetrics } = await reader.collect();
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      out[metric.descriptor.name] = metric.dataPoints.map((p) => [String(p.attributes.column), p.value as number]);
    }
  }
  return out;
}

const report = (features: { column: string; psi?: number; ks?: number; status: DriftStatus }[]) =>
  create(MonitoringReportSchema, { project: "p", featureView: { name: "v", version: 2 }, features });

describe("drift gauges", () => {
  it("hold the latest report's PSI, KS and status (0 ok, 1 drift, 2 insufficient data) per feature", async () => {
    const reader = new TestReader();
    const metrics = new DriftMetrics(new MeterProvider({ readers: [reader] }).getMeter("test"));
    metrics.record(
      report([
        { column: "amount", psi: 0.5, ks: 0.4, status: DriftStatus.DRIFT },
        { column: "category", psi: 0.01, status: DriftStatus.OK },
      ]),
    );
    expect(await points(reader)).toEqual({
      "granary.monitoring.drift.psi": [
        ["amount", 0.5],
        ["category", 0.01],
      ],
      "granary.monitoring.drift.ks": [["amount", 0.4]],
      "granary.monitoring.drift.status": [
        ["amount", 1],
        ["category", 0],
      ],
    });
    // A later report of the view replaces its features' statuses (a PSI it could not compute is not observed again).
    metrics.record(report([{ column: "amount", status: DriftStatus.INSUFFICIENT_DATA }]));
    const later = await points(reader);
    expect(later["granary.monitoring.drift.status"]).toEqual([
      ["amount", 2],
      ["category", 0],
    ]);
    const { resourceMetrics } = await reader.collect();
    const attrs = resourceMetrics.scopeMetrics[0]!.metrics[0]!.dataPoints[0]!.attributes;
    expect(attrs).toEqual({ project: "p", feature_view: "v", version: 2, column: "amount" });
  });
});
