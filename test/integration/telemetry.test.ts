import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { readFileSync } from "node:fs";
import { Code, ConnectError } from "@connectrpc/connect";
import { SpanKind } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { connect, type FeatureGroup, type FeatureView, type Granary, type Project } from "@granary/client";
import { EnvReader, readCommonConfig } from "@granary/config";
import { startTestSuite } from "@granary/suite";
import { parsePrometheusText, sampleSum, startTelemetry, type PrometheusSample, type Telemetry } from "@granary/telemetry";
import { waitFor } from "@granary/testing";

// Telemetry by the spec (issue 20), against the whole suite on real PostgreSQL, LMDB and DuckDB:
// the SDK configured from the standard environment, RPC spans and metrics by the semantic
// conventions, the internal spans of the phases that matter, and /metrics scraped after real calls.

// The operator's settings, read by the SDK itself (the env detector) and by Granary's config.
process.env.OTEL_RESOURCE_ATTRIBUTES = "service.name=granary-it,deployment.environment.name=staging,k8s.pod.name=granary-0";
const env = { OTEL_RESOURCE_ATTRIBUTES: process.env.OTEL_RESOURCE_ATTRIBUTES, GRANARY_METRICS_PORT: "0", GRANARY_METRICS_TOKEN: "metrics-token-for-the-test" };

const spans = new InMemorySpanExporter();
const processor = new SimpleSpanProcessor(spans);
let telemetry: Telemetry;
let metricsUrl: string;
let stopSuite: () => Promise<void>;
let granary: Granary;
let project: Project;
let cards: FeatureGroup;
let view: FeatureView;
let lookupsMade = 0;
let entitiesLookedUp = 0;

const day = (d: number) => new Date(Date.UTC(2025, 0, d));
const NEWEST = day(3);

async function scrape(): Promise<PrometheusSample[]> {
  const res = await fetch(metricsUrl, { headers: { authorization: `Bearer ${env.GRANARY_METRICS_TOKEN}` } });
  expect(res.status).toBe(200);
  return parsePrometheusText(await res.text());
}

async function lookup(ids: number[]) {
  lookupsMade++;
  entitiesLookedUp += ids.length;
  return view.getFeatureVectorsWithStatus(ids.map((cc_num) => ({ cc_num })));
}

beforeAll(async () => {
  const reader = new EnvReader(env);
  const common = readCommonConfig(reader, "granary-test");
  reader.finish();
  // Telemetry first, as runMain does: the services' instruments bind to this process's provider.
  telemetry = startTelemetry(common.telemetry, { spanProcessors: [processor] });
  metricsUrl = `http://${await telemetry.metricsAddress()}/metrics`;
  const { suite, keys, stop } = await startTestSuite("telemetry");
  stopSuite = stop;
  granary = connect({ addresses: suite.addresses, timeoutMs: 20_000, apiKey: keys.adminKey });
  await granary.waitUntilServing(30_000);
  project = await granary.project("tele");
  cards = await project.getOrCreateFeatureGroup({
    name: "cards",
    columns: [
      { name: "cc_num", type: "int64" },
      { name: "spend", type: "double" },
      { name: "ts", type: "timestamp" },
    ],
    primaryKey: ["cc_num"],
    eventTime: "ts",
    onlineEnabled: true,
  });
  view = await project.getOrCreateFeatureView({ name: "spend", query: cards.select(["spend"]) });
  await cards.insert([
    { cc_num: 1, spend: 10, ts: day(1) },
    { cc_num: 2, spend: 20, ts: day(2) },
    { cc_num: 3, spend: 30, ts: NEWEST },
  ]);
  // The commit reaches the online store through the offline service's push.
  await waitFor(async () => (await lookup([3])).rows[0]?.spend === 30, { timeoutMs: 20_000 });
}, 120_000);

afterAll(async () => {
  granary?.close();
  await stopSuite?.();
  await telemetry?.shutdown();
}, 60_000);

const finished = () => spans.getFinishedSpans();
const byName = (name: string) => finished().filter((s) => s.name === name);
const parentOf = (span: ReadableSpan) => finished().find((s) => s.spanContext().spanId === span.parentSpanContext?.spanId);

describe("metrics scraped from /metrics after real calls", () => {
  it("counts every RPC by method and status code, and the errors by code", async () => {
    const before = sampleSum(await scrape(), "rpc_server_call_duration_count", {
      rpc_method: "granary.metadata.v1.MetadataService/GetProject",
      rpc_status_code: "NOT_FOUND",
    });
    for (let i = 0; i < 3; i++) {
      const err = await granary.project("nosuchproject", { create: false }).then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
      expect(err?.code).toBe(Code.NotFound);
    }
    const samples = await scrape();
    const notFound = { rpc_method: "granary.metadata.v1.MetadataService/GetProject", rpc_status_code: "NOT_FOUND" };
    expect(sampleSum(samples, "rpc_server_call_duration_count", notFound) - before).toBe(3);
    // NOT_FOUND is the caller's error, not the server's: no error.type on the server side.
    expect(samples.some((s) => s.name === "rpc_server_call_duration_count" && s.labels.rpc_status_code === "NOT_FOUND" && s.labels.error_type)).toBe(false);
    // The client side (the SDK's interceptor) records every non-OK code as an error.
    expect(sampleSum(samples, "rpc_client_call_duration_count", { ...notFound, error_type: "NOT_FOUND" })).toBeGreaterThanOrEqual(3);
    // Buckets in seconds, cumulative, ending in +Inf = count.
    const inf = sampleSum(samples, "rpc_server_call_duration_bucket", { ...notFound, le: "+Inf" });
    expect(inf).toBe(sampleSum(samples, "rpc_server_call_duration_count", notFound));
  });

  it("counts online lookups and entities per feature view, exactly", async () => {
    for (let i = 0; i < 5; i++) await lookup([1, 2, 3, 99]);
    const samples = await scrape();
    const labels = { granary_project: "tele", granary_feature_view: "spend" };
    expect(sampleSum(samples, "granary_online_lookups_total", labels)).toBe(lookupsMade);
    expect(sampleSum(samples, "granary_online_lookup_entities_total", labels)).toBe(entitiesLookedUp);
    expect(
      sampleSum(samples, "rpc_server_call_duration_count", { rpc_method: "granary.online.v1.OnlineService/GetFeatureVectors", rpc_status_code: "OK" }),
    ).toBe(lookupsMade);
  });

  it("counts rows written online and shows the newest event time per group (freshness)", async () => {
    const samples = await scrape();
    const labels = { granary_project: "tele", granary_feature_group: "cards" };
    expect(sampleSum(samples, "granary_online_rows_total", { ...labels, granary_write_result: "written" })).toBe(3);
    expect(sampleSum(samples, "granary_online_newest_event_time", labels)).toBe(NEWEST.getTime() / 1000);
  });

  it("counts the rows the offline service streams", async () => {
    const before = sampleSum(await scrape(), "granary_offline_stream_rows_total", {
      granary_project: "tele",
      granary_source: "cards",
      granary_operation: "read",
    });
    const table = await cards.read();
    expect(table.numRows).toBe(3);
    const samples = await scrape();
    expect(
      sampleSum(samples, "granary_offline_stream_rows_total", { granary_project: "tele", granary_source: "cards", granary_operation: "read" }) - before,
    ).toBe(3);
    expect(sampleSum(samples, "granary_offline_stream_bytes_total", { granary_project: "tele", granary_operation: "read" })).toBeGreaterThan(0);
  });

  it("carries OTEL_RESOURCE_ATTRIBUTES in target_info, and refuses a scrape without the token", async () => {
    const info = (await scrape()).find((s) => s.name === "target_info");
    expect(info?.labels).toMatchObject({ service_name: "granary-it", deployment_environment_name: "staging", k8s_pod_name: "granary-0" });
    expect((await fetch(metricsUrl)).status).toBe(401);
  });

  it("the Grafana dashboard queries only metrics the services export", async () => {
    const dashboard = JSON.parse(readFileSync(new URL("../../deploy/grafana/granary.json", import.meta.url), "utf8")) as {
      panels: { title: string; targets?: { expr: string }[] }[];
    };
    const exported = new Set((await scrape()).map((s) => s.name));
    const queried = new Set<string>();
    for (const panel of dashboard.panels) {
      for (const target of panel.targets ?? []) {
        // What is left of PromQL without grouping clauses, label matchers, ranges and strings:
        // metric names, and functions (followed by a parenthesis).
        const bare = target.expr
          .replace(/\b(by|without)\s*\([^)]*\)/g, " ")
          .replace(/\{[^}]*\}/g, " ")
          .replace(/\[[^\]]*\]/g, " ")
          .replace(/"[^"]*"/g, " ");
        for (const [name] of bare.matchAll(/\b[a-zA-Z_:][a-zA-Z0-9_:]*\b(?!\s*\()/g)) queried.add(name);
      }
    }
    const names = [...queried];
    expect(names.length).toBeGreaterThanOrEqual(8);
    expect(names.filter((n) => !exported.has(n))).toEqual([]);
    expect(dashboard.panels.map((p) => p.title)).toEqual(
      expect.arrayContaining(["Request rate", "Latency p50 / p99", "Errors by code", "Online lookups per feature view", "Freshness", "Offline stream rows"]),
    );
  });
});

describe("spans by the RPC semantic conventions, with the phases as children", () => {
  it("gives a server span rpc.system.name, the full rpc.method and rpc.status_code, and the resource from the environment", async () => {
    await processor.forceFlush();
    const server = byName("granary.online.v1.OnlineService/GetFeatureVectors").find((s) => s.kind === SpanKind.SERVER);
    expect(server?.attributes).toMatchObject({
      "rpc.system.name": "grpc",
      "rpc.method": "granary.online.v1.OnlineService/GetFeatureVectors",
      "rpc.status_code": "OK",
    });
    expect(server?.attributes["rpc.grpc.status_code"]).toBeUndefined();
    expect(server?.resource.attributes).toMatchObject({ "service.name": "granary-it", "deployment.environment.name": "staging", "k8s.pod.name": "granary-0" });
  });

  it("puts server.address and server.port on client spans", async () => {
    await processor.forceFlush();
    const client = byName("granary.online.v1.OnlineService/GetFeatureVectors").find((s) => s.kind === SpanKind.CLIENT);
    const port = Number(granary.addresses.online.split(":").pop());
    expect(client?.attributes).toMatchObject({ "rpc.system.name": "grpc", "server.address": "127.0.0.1", "server.port": port, "rpc.status_code": "OK" });
    // The server span of that call descends from it (traceparent carried).
    const server = finished().find((s) => s.kind === SpanKind.SERVER && s.parentSpanContext?.spanId === client?.spanContext().spanId);
    expect(server?.name).toBe("granary.online.v1.OnlineService/GetFeatureVectors");
  });

  it("makes the LMDB batch read a child of the lookup's server span", async () => {
    await processor.forceFlush();
    const read = byName("lmdb.read").at(-1)!;
    expect(read.attributes).toMatchObject({ "granary.project": "tele", "granary.feature_view": "spend", "granary.entities": 4 });
    expect(parentOf(read)?.name).toBe("granary.online.v1.OnlineService/GetFeatureVectors");
    expect(parentOf(read)?.kind).toBe(SpanKind.SERVER);
  });

  it("traces an insert: the offline commit under Insert, the push writing to LMDB under WriteRows", async () => {
    await processor.forceFlush();
    const commit = byName("offline.commit").find((s) => s.attributes["granary.feature_group"] === "cards");
    expect(commit?.attributes).toMatchObject({ "granary.project": "tele", "granary.rows": 3, "granary.commit.kind": "INSERT" });
    expect(parentOf(commit!)?.name).toBe("granary.offline.v1.OfflineService/Insert");
    const duck = finished().filter((s) => s.name === "duckdb.query" && s.parentSpanContext?.spanId === commit!.spanContext().spanId);
    expect(duck.length).toBeGreaterThan(0);
    const push = byName("offline.online_push").find((s) => s.attributes["granary.feature_group"] === "cards");
    expect(push?.attributes["granary.rows"]).toBe(3);
    const write = finished().find(
      (s) => s.name === "lmdb.write" && s.attributes["db.operation.name"] === "upsert" && s.attributes["granary.rows.written"] === 3,
    );
    expect(write).toBeDefined();
    // lmdb.write ← WriteRows (server) ← WriteRows (client, server.address set) ← offline.online_push
    const serverCall = parentOf(write!)!;
    expect([serverCall.name, serverCall.kind]).toEqual(["granary.online.v1.OnlineService/WriteRows", SpanKind.SERVER]);
    const clientCall = parentOf(serverCall)!;
    expect(clientCall.kind).toBe(SpanKind.CLIENT);
    expect(clientCall.attributes["server.port"]).toBe(Number(granary.addresses.online.split(":").pop()));
    expect(parentOf(clientCall)?.name).toBe("offline.online_push");
  });

  it("makes the DuckDB query of a Read a child of its server span, with the rows it returned", async () => {
    await processor.forceFlush();
    const reads = byName("granary.offline.v1.OfflineService/Read").filter((s) => s.kind === SpanKind.SERVER);
    const read = reads.at(-1)!;
    const query = finished().find((s) => s.name === "duckdb.query" && s.parentSpanContext?.spanId === read.spanContext().spanId);
    expect(query?.attributes).toMatchObject({ "db.system.name": "duckdb", "db.operation.name": "stream", "db.response.returned_rows": 3 });
  });
});
