import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { metrics } from "@opentelemetry/api";
import { addMetricSource, collectProcessMetrics, parsePrometheusText, sampleSum, startTelemetry, type Telemetry } from "./index.js";

const TOKEN = "scrape-token-0123456789";
let telemetry: Telemetry;
let url: string;

beforeAll(async () => {
  telemetry = startTelemetry({
    enabled: true,
    serviceName: "granary-test",
    otlpEndpoint: undefined,
    tracesExporter: "none",
    metricsExporter: "none",
    prometheus: { host: "127.0.0.1", port: 0, token: TOKEN },
  });
  url = `http://${await telemetry.metricsAddress()}/metrics`;
});
afterAll(() => telemetry.shutdown());

const scrape = (headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }) => fetch(url, { headers });

describe("the /metrics endpoint", () => {
  it("refuses a scrape without the token, and other paths", async () => {
    expect((await scrape({})).status).toBe(401);
    expect((await scrape({ authorization: "Bearer wrong-token-0123456789" })).status).toBe(401);
    expect((await fetch(url.replace("/metrics", "/"), { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
  });

  it("serves this process's metrics and another process's, summed per attribute set", async () => {
    const counter = metrics.getMeter("granary.test").createCounter("granary.test.things", { unit: "{thing}" });
    counter.add(3, { "granary.project": "fraud" });
    counter.add(1, { "granary.project": "churn" });
    // A worker's metrics, as the online primary gets them over IPC: the same instruments, its own counts.
    const worker = await collectProcessMetrics();
    const remove = addMetricSource(async () => [worker, worker]);
    try {
      const res = await scrape();
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
      const samples = parsePrometheusText(await res.text());
      expect(sampleSum(samples, "granary_test_things_total", { granary_project: "fraud" })).toBe(9);
      expect(sampleSum(samples, "granary_test_things_total", { granary_project: "churn" })).toBe(3);
      expect(samples.find((s) => s.name === "target_info")?.labels.service_name).toBe("granary-test");
    } finally {
      remove();
    }
    const alone = parsePrometheusText(await (await scrape()).text());
    expect(sampleSum(alone, "granary_test_things_total", { granary_project: "fraud" })).toBe(3);
  });
});
