import { afterAll, describe, expect, it } from "@jest/globals";
import { trace } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { startTelemetry } from "./telemetry.js";

// The SDK's own environment, as an operator sets it: read by the SDK's env detector at start.
process.env.OTEL_RESOURCE_ATTRIBUTES = "deployment.environment.name=staging,service.instance.id=pod-a,k8s.pod.name=granary-online-0";
const spans = new InMemorySpanExporter();
const processor = new SimpleSpanProcessor(spans);
// Each online worker process reports as its own instance of the service (issue 17).
const telemetry = startTelemetry(
  { enabled: true, serviceName: "granary-online", otlpEndpoint: undefined, tracesExporter: "none", metricsExporter: "none" },
  { spanProcessors: [processor], metricReaders: [], resourceAttributes: { "service.instance.id": "pod-a-worker-1" } },
);
afterAll(() => telemetry.shutdown());

describe("startTelemetry", () => {
  it("puts OTEL_RESOURCE_ATTRIBUTES on the resource, the given attributes winning, beside the service name", async () => {
    trace.getTracer("test").startSpan("lookup").end();
    // The host detector's attributes arrive asynchronously; the processor exports once they have.
    await processor.forceFlush();
    const [span] = spans.getFinishedSpans();
    expect(span?.resource.attributes["service.instance.id"]).toBe("pod-a-worker-1");
    expect(span?.resource.attributes["deployment.environment.name"]).toBe("staging");
    expect(span?.resource.attributes["k8s.pod.name"]).toBe("granary-online-0");
    expect(span?.resource.attributes["service.name"]).toBe("granary-online");
  });

  it("has no /metrics unless configured", async () => {
    expect(await telemetry.metricsAddress()).toBeUndefined();
  });
});
