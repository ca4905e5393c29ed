export { createLogger, type Logger, type LoggerOptions } from "./logger.js";
export { collectProcessMetrics, startTelemetry, type Telemetry, type TelemetryOptions } from "./telemetry.js";
export { addMetricSource, type MetricSource } from "./metric-sources.js";
export { mergeScopeMetrics } from "./merge-metrics.js";
export { startMetricsEndpoint, type MetricsEndpoint } from "./metrics-endpoint.js";
export { parsePrometheusText, sampleSum, type PrometheusSample } from "./prometheus-text.js";
export { inSpan, inSpanSync, lazily } from "./internal-spans.js";
