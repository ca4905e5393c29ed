import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { ConsoleMetricExporter, PeriodicExportingMetricReader, type IMetricReader } from "@opentelemetry/sdk-metrics";
import { NodeSDK, resources } from "@opentelemetry/sdk-node";
import { BatchSpanProcessor, ConsoleSpanExporter, NoopSpanProcessor, type SpanProcessor } from "@opentelemetry/sdk-trace-base";
import type { TelemetryConfig } from "@granary/config";

export interface TelemetryOptions {
  /** Replace the configured span processors (tests pass an in-memory exporter). */
  spanProcessors?: SpanProcessor[];
  /** Replace the configured metric readers. */
  metricReaders?: IMetricReader[];
  /**
   * Resource attributes besides service.name, e.g. a distinct `service.instance.id` for each worker
   * process of one service, so a collector keeps their metrics apart and sums them.
   */
  resourceAttributes?: Readonly<Record<string, string>>;
}

export interface Telemetry {
  shutdown(): Promise<void>;
}

/**
 * Starts the OpenTelemetry SDK for this process: W3C trace context, spans and metrics exported as
 * configured. Spans are always recorded, even with no exporter, so logs carry trace ids.
 * Call once per process, before servers start.
 */
export function startTelemetry(config: TelemetryConfig, options: TelemetryOptions = {}): Telemetry {
  if (!config.enabled) return { shutdown: async () => {} };
  const sdk = new NodeSDK({
    serviceName: config.serviceName,
    autoDetectResources: false,
    ...(options.resourceAttributes ? { resource: resources.resourceFromAttributes({ ...options.resourceAttributes }) } : {}),
    instrumentations: [],
    spanProcessors: options.spanProcessors ?? spanProcessorsFor(config),
    metricReaders: options.metricReaders ?? metricReadersFor(config),
    logRecordProcessors: [],
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}

function spanProcessorsFor(config: TelemetryConfig): SpanProcessor[] {
  switch (config.tracesExporter) {
    case "otlp":
      return [new BatchSpanProcessor(new OTLPTraceExporter({ url: otlpUrl(config, "traces") }))];
    case "console":
      return [new BatchSpanProcessor(new ConsoleSpanExporter())];
    case "none":
      return [new NoopSpanProcessor()];
  }
}

function metricReadersFor(config: TelemetryConfig): IMetricReader[] {
  switch (config.metricsExporter) {
    case "otlp":
      return [new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter({ url: otlpUrl(config, "metrics") }) })];
    case "console":
      return [new PeriodicExportingMetricReader({ exporter: new ConsoleMetricExporter() })];
    case "none":
      return [];
  }
}

function otlpUrl(config: TelemetryConfig, signal: "traces" | "metrics"): string {
  const base = (config.otlpEndpoint ?? "http://127.0.0.1:4318").replace(/\/$/, "");
  return `${base}/v1/${signal}`;
}
