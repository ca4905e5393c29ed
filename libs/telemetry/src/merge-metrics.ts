import { DataPointType, type DataPoint, type Histogram, type MetricData, type ScopeMetrics } from "@opentelemetry/sdk-metrics";

/**
 * Sums the cumulative metrics of several processes into one set, as one scrape target shows them:
 * counters and histograms add up per metric and attribute set; a gauge keeps its largest value.
 * The online service's primary merges its workers' metrics this way (decision 0012).
 */
export function mergeScopeMetrics(sets: readonly (readonly ScopeMetrics[])[]): ScopeMetrics[] {
  const scopes = new Map<string, { scope: ScopeMetrics["scope"]; metrics: Map<string, MetricData> }>();
  for (const set of sets) {
    for (const sm of set) {
      let scope = scopes.get(sm.scope.name);
      if (!scope) scopes.set(sm.scope.name, (scope = { scope: sm.scope, metrics: new Map() }));
      for (const metric of sm.metrics) {
        const seen = scope.metrics.get(metric.descriptor.name);
        scope.metrics.set(metric.descriptor.name, seen && seen.dataPointType === metric.dataPointType ? mergeMetric(seen, metric) : copyMetric(metric));
      }
    }
  }
  return [...scopes.values()].map(({ scope, metrics }) => ({ scope, metrics: [...metrics.values()] }));
}

function copyMetric(metric: MetricData): MetricData {
  return { ...metric, dataPoints: metric.dataPoints.map((p) => ({ ...p })) } as MetricData;
}

function mergeMetric(into: MetricData, from: MetricData): MetricData {
  const points = new Map<string, DataPoint<unknown>>(into.dataPoints.map((p) => [attributesKey(p.attributes), p]));
  for (const point of from.dataPoints as DataPoint<unknown>[]) {
    const key = attributesKey(point.attributes);
    const seen = points.get(key);
    points.set(key, seen ? { ...seen, value: mergeValue(into.dataPointType, seen.value, point.value) } : { ...point });
  }
  return { ...into, dataPoints: [...points.values()] } as MetricData;
}

function mergeValue(type: DataPointType, a: unknown, b: unknown): unknown {
  switch (type) {
    case DataPointType.SUM:
      return (a as number) + (b as number);
    case DataPointType.GAUGE:
      return Math.max(a as number, b as number);
    case DataPointType.HISTOGRAM:
      return mergeHistogram(a as Histogram, b as Histogram);
    case DataPointType.EXPONENTIAL_HISTOGRAM:
      return a; // not used by Granary: bucket scales would have to be reconciled
  }
}

function mergeHistogram(a: Histogram, b: Histogram): Histogram {
  const same = a.buckets.boundaries.length === b.buckets.boundaries.length && a.buckets.boundaries.every((x, i) => x === b.buckets.boundaries[i]);
  if (!same) return a;
  return {
    buckets: { boundaries: a.buckets.boundaries, counts: a.buckets.counts.map((c, i) => c + (b.buckets.counts[i] ?? 0)) },
    sum: (a.sum ?? 0) + (b.sum ?? 0),
    count: a.count + b.count,
    min: a.min === undefined ? b.min : b.min === undefined ? a.min : Math.min(a.min, b.min),
    max: a.max === undefined ? b.max : b.max === undefined ? a.max : Math.max(a.max, b.max),
  };
}

function attributesKey(attributes: Readonly<Record<string, unknown>>): string {
  return JSON.stringify(
    Object.keys(attributes)
      .sort()
      .map((k) => [k, attributes[k]]),
  );
}
