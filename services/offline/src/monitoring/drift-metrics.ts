import { metrics, type Attributes, type Meter } from "@opentelemetry/api";
import { DriftStatus, type MonitoringReport } from "@granary/proto/metadata";

/** Values of granary.monitoring.drift.status: 0 ok, 1 drift, 2 insufficient data. */
const STATUS_VALUE: Readonly<Record<number, number>> = { [DriftStatus.OK]: 0, [DriftStatus.DRIFT]: 1, [DriftStatus.INSUFFICIENT_DATA]: 2 };

/**
 * The latest drift of every monitored feature as OpenTelemetry gauges (granary.monitoring.drift.psi,
 * .ks, .status; attributes project, feature_view, version, column), so an operator can alert on
 * status 1 or on a PSI above a level. Each computed report replaces the values of its features; a
 * statistic a report could not compute is no longer observed (exporters may show its last value
 * until it goes stale: the status gauge says 2 then).
 */
export class DriftMetrics {
  readonly #psi = new Map<string, { value: number; attrs: Attributes }>();
  readonly #ks = new Map<string, { value: number; attrs: Attributes }>();
  readonly #status = new Map<string, { value: number; attrs: Attributes }>();

  constructor(meter: Meter = metrics.getMeter("granary.offline")) {
    const gauge = (name: string, description: string, values: Map<string, { value: number; attrs: Attributes }>) =>
      meter.createObservableGauge(name, { description }).addCallback((result) => {
        for (const { value, attrs } of values.values()) result.observe(value, attrs);
      });
    gauge("granary.monitoring.drift.psi", "Population stability index of a feature in its latest drift report", this.#psi);
    gauge("granary.monitoring.drift.ks", "Kolmogorov-Smirnov statistic of a numeric feature in its latest drift report", this.#ks);
    gauge("granary.monitoring.drift.status", "Drift status of a feature in its latest report: 0 ok, 1 drift, 2 insufficient data", this.#status);
  }

  record(report: MonitoringReport): void {
    for (const f of report.features) {
      const attrs = { project: report.project, feature_view: report.featureView?.name ?? "", version: report.featureView?.version ?? 0, column: f.column };
      const key = JSON.stringify(attrs);
      const set = (values: Map<string, { value: number; attrs: Attributes }>, value: number | undefined) =>
        value === undefined ? values.delete(key) : values.set(key, { value, attrs });
      set(this.#psi, f.psi);
      set(this.#ks, f.ks);
      set(this.#status, STATUS_VALUE[f.status]);
    }
  }
}

let shared: DriftMetrics | undefined;
/** The process's gauges (one set per meter provider: created on first use). */
export function driftMetrics(): DriftMetrics {
  shared ??= new DriftMetrics();
  return shared;
}
