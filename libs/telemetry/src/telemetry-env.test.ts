import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { metrics, trace } from "@opentelemetry/api";
import { EnvReader, readCommonConfig } from "@granary/config";
import { startTelemetry, type Telemetry } from "./telemetry.js";

// The SDK configured from the standard environment alone: an OTLP/HTTP JSON "collector" in this
// test receives what the settings below ask for. Before issue 20 our wiring replaced the SDK's
// exporters, and the protocol, headers, interval and resource attributes were ignored.
const received: { path: string; headers: IncomingHttpHeaders; body: string }[] = [];
let collector: Server;
let telemetry: Telemetry;

beforeAll(async () => {
  collector = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      received.push({ path: req.url ?? "", headers: req.headers, body });
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
  const env = {
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`,
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    OTEL_EXPORTER_OTLP_HEADERS: "x-tenant=granary-test",
    OTEL_METRIC_EXPORT_INTERVAL: "200",
    OTEL_METRIC_EXPORT_TIMEOUT: "150",
    OTEL_BSP_SCHEDULE_DELAY: "50",
    OTEL_RESOURCE_ATTRIBUTES: "deployment.environment.name=canary",
    OTEL_SERVICE_NAME: "granary-env-test",
  };
  Object.assign(process.env, env);
  const reader = new EnvReader(env);
  const config = readCommonConfig(reader, "granary-default").telemetry;
  reader.finish();
  expect(config).toMatchObject({ serviceName: "granary-env-test", tracesExporter: "env", metricsExporter: "env" });
  telemetry = startTelemetry(config);
});

afterAll(async () => {
  await telemetry.shutdown();
  await new Promise((resolve) => collector.close(resolve));
});

const waitFor = async (found: () => boolean) => {
  for (let i = 0; i < 100 && !found(); i++) await new Promise((r) => setTimeout(r, 50));
  return found();
};

describe("telemetry from the OTEL_* environment", () => {
  it("exports metrics over OTLP/HTTP JSON at OTEL_METRIC_EXPORT_INTERVAL, with OTEL_EXPORTER_OTLP_HEADERS and the resource", async () => {
    metrics.getMeter("granary.test").createCounter("granary.test.env").add(2);
    expect(await waitFor(() => received.some((r) => r.path === "/v1/metrics" && r.body.includes("granary.test.env")))).toBe(true);
    const sent = received.find((r) => r.path === "/v1/metrics" && r.body.includes("granary.test.env"))!;
    expect(sent.headers["content-type"]).toMatch(/application\/json/);
    expect(sent.headers["x-tenant"]).toBe("granary-test");
    expect(sent.body).toContain('"canary"');
    expect(sent.body).toContain('"granary-env-test"');
  });

  it("exports spans the same way", async () => {
    trace.getTracer("granary.test").startSpan("env-span").end();
    expect(await waitFor(() => received.some((r) => r.path === "/v1/traces" && r.body.includes("env-span")))).toBe(true);
    expect(received.find((r) => r.path === "/v1/traces")?.headers["x-tenant"]).toBe("granary-test");
  });
});
