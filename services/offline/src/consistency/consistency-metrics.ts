import { metrics, type Meter } from "@opentelemetry/api";
import type { ConsistencyReport } from "@granary/proto/offline";

/**
 * The counts of every check as OpenTelemetry counters, so an operator can alert on skew (for
 * example on a rate of granary.consistency.mismatches above zero for a view).
 */
export function recordConsistencyMetrics(project: string, report: ConsistencyReport, meter: Meter = metrics.getMeter("granary.offline")): void {
  const view = report.featureView?.name ?? "";
  const attrs = { project, view, view_version: report.featureView?.version ?? 0 };
  meter.createCounter("granary.consistency.checks", { description: "Consistency checks run" }).add(1, attrs);
  meter
    .createCounter("granary.consistency.compared", { description: "Entities compared online against offline", unit: "{entity}" })
    .add(Number(report.entitiesCompared), attrs);
  meter
    .createCounter("granary.consistency.mismatched_entities", { description: "Compared entities with at least one differing value", unit: "{entity}" })
    .add(Number(report.entitiesMismatched), attrs);
  const missing = meter.createCounter("granary.consistency.missing", { description: "Entities found on one side only (not compared)", unit: "{entity}" });
  missing.add(Number(report.missingOnline?.count ?? 0n), { ...attrs, side: "online" });
  missing.add(Number(report.missingOffline?.count ?? 0n), { ...attrs, side: "offline" });
  const mismatches = meter.createCounter("granary.consistency.mismatches", { description: "Feature values that differ online and offline", unit: "{value}" });
  for (const f of report.features) if (!f.notComparedReason) mismatches.add(Number(f.mismatches), { ...attrs, feature: f.name });
}
