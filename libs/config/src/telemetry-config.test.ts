import { describe, expect, it } from "@jest/globals";
import { ConfigError, EnvReader, readCommonConfig, type Env } from "./index.js";

const telemetryOf = (env: Env) => {
  const r = new EnvReader(env);
  const common = readCommonConfig(r, "granary-online");
  r.finish();
  return common.telemetry;
};

describe("telemetry settings", () => {
  it("export nothing and serve no /metrics by default", () => {
    expect(telemetryOf({})).toMatchObject({ serviceName: "granary-online", tracesExporter: "none", metricsExporter: "none", prometheus: undefined });
  });

  it("leave exporting to the SDK once an endpoint or exporter is set", () => {
    expect(telemetryOf({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" })).toMatchObject({ tracesExporter: "env", metricsExporter: "env" });
    expect(telemetryOf({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: "http://c:4318/v1/metrics" })).toMatchObject({ tracesExporter: "none", metricsExporter: "env" });
    expect(telemetryOf({ OTEL_METRICS_EXPORTER: "console,prometheus" }).metricsExporter).toBe("env");
    expect(telemetryOf({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_TRACES_EXPORTER: "none" }).tracesExporter).toBe("none");
  });

  it("take the service name from OTEL_SERVICE_NAME, then OTEL_RESOURCE_ATTRIBUTES", () => {
    expect(telemetryOf({ OTEL_RESOURCE_ATTRIBUTES: "a=b,service.name=fs%20prod" }).serviceName).toBe("fs prod");
    expect(telemetryOf({ OTEL_RESOURCE_ATTRIBUTES: "service.name=x", OTEL_SERVICE_NAME: "y" }).serviceName).toBe("y");
  });

  it("bind /metrics to loopback unless told, with an optional token", () => {
    expect(telemetryOf({ GRANARY_METRICS_PORT: "9464" }).prometheus).toEqual({ host: "127.0.0.1", port: 9464, token: undefined });
    expect(telemetryOf({ GRANARY_METRICS_PORT: "9464", GRANARY_METRICS_HOST: "0.0.0.0", GRANARY_METRICS_TOKEN: "0123456789abcdef" }).prometheus).toEqual({
      host: "0.0.0.0",
      port: 9464,
      token: "0123456789abcdef",
    });
    expect(telemetryOf({ GRANARY_METRICS_PORT: "off" }).prometheus).toBeUndefined();
  });

  it("refuse what cannot be meant, listing every bad key", () => {
    const problems = (env: Env) => {
      try {
        telemetryOf(env);
        return "";
      } catch (err) {
        if (err instanceof ConfigError) return err.message;
        throw err;
      }
    };
    expect(problems({ GRANARY_METRICS_TOKEN: "0123456789abcdef" })).toMatch(/need GRANARY_METRICS_PORT/);
    expect(problems({ GRANARY_METRICS_PORT: "9464", GRANARY_METRICS_TOKEN: "short" })).toMatch(/at least 16/);
    expect(problems({ GRANARY_METRICS_PORT: "9464", GRANARY_METRICS_TOKEN_FILE: "/nonexistent/token" })).toMatch(/cannot read/);
    expect(problems({ OTEL_TRACES_EXPORTER: "jaeger" })).toMatch(/OTEL_TRACES_EXPORTER must list/);
    expect(problems({ GRANARY_METRICS_PORT: "99999" })).toMatch(/GRANARY_METRICS_PORT/);
  });
});
