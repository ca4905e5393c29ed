import type { ScopeMetrics } from "@opentelemetry/sdk-metrics";

/** Metrics of other processes that this process's /metrics shows as its own (an online primary's workers). */
export type MetricSource = () => Promise<readonly (readonly ScopeMetrics[])[]>;

const sources = new Set<MetricSource>();

/** Adds a source to this process's /metrics; returns its removal. */
export function addMetricSource(source: MetricSource): () => void {
  sources.add(source);
  return () => sources.delete(source);
}

export async function collectSources(): Promise<(readonly ScopeMetrics[])[]> {
  const all = await Promise.all([...sources].map((s) => s().catch(() => [])));
  return all.flat();
}
