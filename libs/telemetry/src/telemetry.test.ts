import { afterAll, describe, expect, it } from "@jest/globals";
import { trace } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { startTelemetry } from "./telemetry.js";

// Each online worker process reports as its own instance of the service (issue 17).
const spans = new InMemorySpanExporter();
const telemetry = startTelemetry(
  { enabled: true, serviceName: "granary-online", otlpEndpoint: undefined, tracesExporter: "none", metricsExporter: "none" },
  { spanProcessors: [new SimpleSpanProcessor(spans)], metricReaders: [], resourceAttributes: { "service.instance.id": "pod-a-worker-1" } },
);
afterAll(() => telemetry.shutdown());

describe("startTelemetry", () => {
  it("puts the given resource attributes beside the service name", () => {
    trace.getTracer("test").startSpan("lookup").end();
    const [span] = spans.getFinishedSpans();
    expect(span?.resource.attributes["service.instance.id"]).toBe("pod-a-worker-1");
    expect(span?.resource.attributes["service.name"]).toBe("granary-online");
  });
});
