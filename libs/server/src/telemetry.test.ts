import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Code, ConnectError } from "@connectrpc/connect";
import { AggregationTemporality, InMemoryMetricExporter, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { create } from "@bufbuild/protobuf";
import { Authenticator, createAccessControl, NO_LOOKUPS } from "@granary/auth";
import { createServiceClient } from "@granary/service-clients";
import { UnauthenticatedError } from "@granary/errors";
import { ApiKeySchema, MetadataService } from "@granary/proto/metadata";
import { RegistryService } from "@granary/proto/registry";
import { createLogger, startTelemetry, type Telemetry } from "@granary/telemetry";
import { createServer, defineService, principalKey, type GranaryServer } from "./index.js";

// Two servers: a call to "registry" makes an outgoing call to "metadata", as services do.
const spans = new InMemorySpanExporter();
const metrics = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter: metrics, exportIntervalMillis: 60_000 });
let telemetry: Telemetry;
let downstream: GranaryServer;
let upstream: GranaryServer;

const KEY = "grn_00000000000000aa_test-secret-test-secret-test-secret-00";
const config = { host: "127.0.0.1", port: 0, maxMessageBytes: 1 << 20, drainDelayMs: 0, shutdownGraceMs: 1000 };
const logger = createLogger({ level: "silent", service: "test" });

beforeAll(async () => {
  telemetry = startTelemetry(
    { enabled: true, serviceName: "test", otlpEndpoint: undefined, tracesExporter: "none", metricsExporter: "none" },
    { spanProcessors: [new SimpleSpanProcessor(spans)], metricReaders: [reader] },
  );
  downstream = createServer({
    name: "metadata",
    config,
    logger,
    services: [
      defineService(MetadataService, { getProject: (req, ctx) => ({ project: { name: req.name, description: ctx.values.get(principalKey).keyId ?? "" } }) }),
    ],
    access: createAccessControl({
      enabled: true,
      authenticator: new Authenticator({
        serviceKey: "grs_test-service-key",
        resolveKey: async (token) => {
          if (token !== KEY) throw new UnauthenticatedError("unknown API key");
          return create(ApiKeySchema, { id: "key-1", user: "alice", admin: true });
        },
      }),
      lookups: NO_LOOKUPS,
      service: "metadata",
      logger,
    }),
  });
  await downstream.start();
  const metadata = createServiceClient(MetadataService, downstream.address);
  upstream = createServer({
    name: "registry",
    config,
    logger,
    access: createAccessControl({ enabled: false, lookups: NO_LOOKUPS, service: "registry", logger }),
    services: [
      defineService(RegistryService, {
        async getModel(req) {
          const { project } = await metadata.getProject({ name: req.project }, { headers: { authorization: `Bearer ${KEY}` } });
          return { model: { project: project?.name ?? "", name: req.name, description: project?.description ?? "" } };
        },
      }),
    ],
  });
  await upstream.start();
});

afterAll(async () => {
  await upstream.shutdown();
  await downstream.shutdown();
  await telemetry.shutdown();
});

describe("telemetry and auth", () => {
  it("makes a server span per call, parents the outgoing call's spans on it, and records durations", async () => {
    const res = await createServiceClient(RegistryService, upstream.address).getModel({ project: "fraud", name: "m" });
    expect(res.model?.description).toBe("key-1");
    const finished = spans.getFinishedSpans();
    const upstreamSpan = finished.find(
      (s) => s.name === "granary.registry.v1.RegistryService/GetModel" && s.attributes["rpc.system.name"] === "grpc" && s.kind === 1,
    );
    const downstreamSpan = finished.find((s) => s.name === "granary.metadata.v1.MetadataService/GetProject" && s.kind === 1);
    expect(upstreamSpan).toBeDefined();
    expect(downstreamSpan).toBeDefined();
    // Same trace, and the downstream server span descends from the upstream server span.
    expect(downstreamSpan!.spanContext().traceId).toBe(upstreamSpan!.spanContext().traceId);
    const parents = new Map(finished.map((s) => [s.spanContext().spanId, s.parentSpanContext?.spanId]));
    let cursor: string | undefined = downstreamSpan!.parentSpanContext?.spanId;
    const chain: string[] = [];
    while (cursor) {
      chain.push(cursor);
      cursor = parents.get(cursor);
    }
    expect(chain).toContain(upstreamSpan!.spanContext().spanId);

    await reader.forceFlush();
    const exported = metrics.getMetrics().flatMap((m) => m.scopeMetrics.flatMap((s) => s.metrics));
    const duration = exported.find((m) => m.descriptor.name === "rpc.server.call.duration");
    expect(duration?.descriptor.unit).toBe("s");
    expect(
      duration?.dataPoints.some(
        (p) => p.attributes["rpc.method"] === "granary.metadata.v1.MetadataService/GetProject" && p.attributes["rpc.status_code"] === "OK",
      ),
    ).toBe(true);
  });

  it("authenticates every request", async () => {
    const err = await createServiceClient(MetadataService, downstream.address)
      .getProject({ name: "fraud" })
      .then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
    expect(err && Code[err.code]).toBe("Unauthenticated");
    expect(err?.rawMessage).toMatch(/no API key/);
    const bad = await createServiceClient(MetadataService, downstream.address, { apiKey: "grn_0123456789abcdef_wrongwrongwrongwrongwrong" })
      .getProject({ name: "fraud" })
      .then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
    expect(bad && Code[bad.code]).toBe("Unauthenticated");
    expect(bad?.rawMessage).toBe("unknown API key");
  });
});
