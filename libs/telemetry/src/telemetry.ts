import { getStringListFromEnv } from "@opentelemetry/core";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { defaultResource, detectResources, envDetector, hostDetector, processDetector, resourceFromAttributes } from "@opentelemetry/resources";
import { ConsoleMetricExporter, type IMetricReader } from "@opentelemetry/sdk-metrics";
import { NodeSDK } from "@opentelemetry/sdk-node";
// The SDK's own env readers, so OTEL_EXPORTER_OTLP_*PROTOCOL, _ENDPOINT, _HEADERS and
// OTEL_METRIC_EXPORT_INTERVAL/_TIMEOUT mean exactly what they mean to it. sdk-node is pinned
// exactly (package.json), and has no exports map: this path is part of its published build.
import { getOtlpMetricExporterFromEnv, getPeriodicExportingMetricReaderFromEnv, getResourceDetectorsFromEnv } from "@opentelemetry/sdk-node/build/src/utils.js";
import { NoopSpanProcessor, type SpanProcessor } from "@opentelemetry/sdk-trace-base";
import type { ScopeMetrics } from "@opentelemetry/sdk-metrics";
import type { TelemetryConfig } from "@granary/config";
import { startMetricsEndpoint, type MetricsEndpoint } from "./metrics-endpoint.js";
import { PullMetricReader } from "./pull-metric-reader.js";

export interface TelemetryOptions {
  /** Replace the span processors the environment asks for (tests pass an in-memory exporter). */
  spanProcessors?: SpanProcessor[];
  /** Replace the metric readers the environment asks for (the /metrics reader is kept). */
  metricReaders?: IMetricReader[];
  /**
   * Resource attributes besides service.name, e.g. a distinct `service.instance.id` for each worker
   * process of one service. They win over OTEL_RESOURCE_ATTRIBUTES (the workers of one pod share
   * its environment but must stay apart).
   */
  resourceAttributes?: Readonly<Record<string, string>>;
  /**
   * false: collect metrics for /metrics (config.prometheus) but leave serving them to another
   * process: an online worker, whose primary asks it over IPC (collectProcessMetrics).
   */
  serveMetrics?: boolean;
}

export interface Telemetry {
  /** host:port of /metrics once it listens; undefined when there is none. Rejects if it cannot listen. */
  metricsAddress(): Promise<string | undefined>;
  shutdown(): Promise<void>;
}

let processReader: PullMetricReader | undefined;

/**
 * Starts the OpenTelemetry SDK for this process from the standard environment (OTEL_SERVICE_NAME,
 * OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_EXPORTER, OTEL_METRICS_EXPORTER, OTEL_EXPORTER_OTLP_*,
 * OTEL_TRACES_SAMPLER, OTEL_METRIC_EXPORT_INTERVAL, OTEL_PROPAGATORS…: the SDK reads them itself),
 * with Granary's defaults only where those are unset: no exporter unless an endpoint is set, and
 * spans always recorded so logs carry trace ids. Adds the /metrics endpoint when configured.
 * Call once per process, before servers start.
 */
export function startTelemetry(config: TelemetryConfig, options: TelemetryOptions = {}): Telemetry {
  if (!config.enabled) return { metricsAddress: async () => undefined, shutdown: async () => {} };
  const pull = config.prometheus ? new PullMetricReader() : undefined;
  processReader = pull;
  const sdk = new NodeSDK({
    serviceName: config.serviceName,
    autoDetectResources: false,
    resource: resourceFor(options.resourceAttributes),
    instrumentations: [],
    // Unset, the SDK builds processors from OTEL_TRACES_EXPORTER; "none" there would leave no
    // tracer at all, and logs would lose their trace ids.
    ...(options.spanProcessors
      ? { spanProcessors: options.spanProcessors }
      : config.tracesExporter === "none"
        ? { spanProcessors: [new NoopSpanProcessor()] }
        : {}),
    metricReaders: [...(options.metricReaders ?? (config.metricsExporter === "env" ? metricReadersFromEnv() : [])), ...(pull ? [pull] : [])],
    logRecordProcessors: [],
  });
  sdk.start();
  const endpoint: Promise<MetricsEndpoint | undefined> =
    pull && config.prometheus && options.serveMetrics !== false ? startMetricsEndpoint(config.prometheus, pull) : Promise.resolve(undefined);
  endpoint.catch(() => {}); // reported by metricsAddress()
  return {
    metricsAddress: async () => (await endpoint)?.address,
    async shutdown() {
      await endpoint.then((e) => e?.close()).catch(() => {});
      if (processReader === pull) processReader = undefined;
      await sdk.shutdown();
    },
  };
}

/**
 * This process's metrics, cumulative since start, as /metrics would show them; empty without a
 * /metrics configuration. An online worker answers its primary's scrape with them.
 */
export async function collectProcessMetrics(): Promise<ScopeMetrics[]> {
  return processReader ? (await processReader.snapshot()).scopeMetrics : [];
}

/** What NodeSDK does for OTEL_METRICS_EXPORTER, which it skips once any reader is given. */
function metricReadersFromEnv(): IMetricReader[] {
  const names = new Set(getStringListFromEnv("OTEL_METRICS_EXPORTER") ?? ["otlp"]);
  if (names.has("none")) return [];
  const readers: IMetricReader[] = [];
  if (names.has("otlp") || names.size === 0) readers.push(getPeriodicExportingMetricReaderFromEnv(getOtlpMetricExporterFromEnv()));
  if (names.has("console")) readers.push(getPeriodicExportingMetricReaderFromEnv(new ConsoleMetricExporter()));
  // The SDK's own Prometheus exporter: OTEL_EXPORTER_PROMETHEUS_HOST/_PORT, 0.0.0.0:9464 by default.
  if (names.has("prometheus")) readers.push(new PrometheusExporter());
  return readers;
}

/** Detected as NodeSDK would (OTEL_NODE_RESOURCE_DETECTORS, else env, process, host), then ours on top. */
function resourceFor(attributes: Readonly<Record<string, string>> | undefined) {
  const detectors = process.env.OTEL_NODE_RESOURCE_DETECTORS ? getResourceDetectorsFromEnv() : [envDetector, processDetector, hostDetector];
  const detected = defaultResource().merge(detectResources({ detectors }));
  return attributes ? detected.merge(resourceFromAttributes({ ...attributes })) : detected;
}
