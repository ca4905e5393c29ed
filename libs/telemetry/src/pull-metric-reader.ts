import { MetricReader, type ScopeMetrics } from "@opentelemetry/sdk-metrics";
import type { Resource } from "@opentelemetry/resources";

/** A reader that exports nothing by itself: the /metrics endpoint (or a cluster primary) collects on demand. */
export class PullMetricReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}

  /** This process's metrics now, cumulative since start, and its resource. */
  async snapshot(): Promise<{ resource: Resource; scopeMetrics: ScopeMetrics[] }> {
    const { resourceMetrics } = await this.collect();
    return { resource: resourceMetrics.resource, scopeMetrics: resourceMetrics.scopeMetrics };
  }
}
