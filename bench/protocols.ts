// The same online lookup over every protocol the services speak, against a suite in a child
// process: GetFeatureVectors (100 keys × 20 doubles, and 1 key) on the gRPC port (the baseline:
// grpc-js with the pre-encoded response) and on the HTTP port over Connect binary (HTTP/1.1 and
// h2; with and without gzip), Connect JSON (HTTP/1.1), gRPC-Web (HTTP/1.1) and gRPC over h2c, at
// concurrency 1 and 16.
// Each protocol's p50/p99 and calls/s, and its ratio to the gRPC port in the same run. The last
// line is one JSON object.
//
//   npm run bench:protocols [-- --quick]
import { fork } from "node:child_process";
import { once } from "node:events";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { connect } from "@granary/client";
import { OnlineService } from "@granary/proto/online";
import { testKeys } from "@granary/testing";

const QUICK = process.argv.includes("--quick");
const SECONDS = QUICK ? 1 : 3;
const FEATURES = 20;
const ENTITIES = 2_000;
type Addresses = Record<"metadata" | "online" | "offline" | "registry", string>;

if (process.argv.includes("--child")) {
  const { startSuiteOnFreePorts } = await import("@granary/suite");
  const { createLogger } = await import("@granary/telemetry");
  const dir = mkdtempSync(join(tmpdir(), "granary-bench-protocols-"));
  chmodSync(dir, 0o755); // embedded PostgreSQL runs as user postgres when we are root
  const { GRANARY_BOOTSTRAP_ADMIN_KEY = "", GRANARY_SERVICE_KEY = "" } = process.env;
  const env: Record<string, string> = {
    GRANARY_DATA_DIR: dir,
    GRANARY_LOG_LEVEL: "warn",
    GRANARY_BOOTSTRAP_ADMIN_KEY,
    GRANARY_SERVICE_KEY,
    GRANARY_CONSOLE_PORT: "off",
  };
  if (process.env["DATABASE_URL"]) env["DATABASE_URL"] = process.env["DATABASE_URL"];
  const suite = await startSuiteOnFreePorts(env, createLogger({ level: "warn", service: "bench" }));
  process.send!({ addresses: suite.addresses, httpAddresses: suite.httpAddresses });
  process.on("message", () => {
    void suite.stop().finally(() => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    });
  });
} else {
  const keys = testKeys();
  const child = fork(new URL(import.meta.url).pathname, ["--child"], { execArgv: ["--import", "tsx"], stdio: "inherit", env: { ...process.env, ...keys.env } });
  const [{ addresses, httpAddresses }] = (await once(child, "message")) as [{ addresses: Addresses; httpAddresses: Addresses }];
  try {
    console.log(JSON.stringify(await run(addresses, httpAddresses, keys.adminKey)));
  } finally {
    child.send("stop");
    await once(child, "exit");
  }
}

async function run(addresses: Addresses, httpAddresses: Addresses, apiKey: string) {
  const granary = connect({ addresses, apiKey });
  await granary.waitUntilServing(60_000);
  const project = await granary.project("bench_protocols");
  const features = Array.from({ length: FEATURES }, (_, i) => `f${i}`);
  const group = await project.getOrCreateFeatureGroup({
    name: "wide",
    columns: [{ name: "id", type: "int64" }, ...features.map((name) => ({ name, type: "double" as const })), { name: "ts", type: "timestamp" }],
    primaryKey: ["id"],
    eventTime: "ts",
    onlineEnabled: true,
  });
  const rows = Array.from({ length: ENTITIES }, (_, id) => ({
    id,
    ts: new Date(1_700_000_000_000),
    ...Object.fromEntries(features.map((f, i) => [f, id * 0.5 + i])),
  }));
  await group.insert(rows);
  const view = await project.getOrCreateFeatureView({ name: "wide_view", query: group.select(features) });
  granary.close();

  const bearer: Interceptor = (next) => (req) => {
    req.header.set("authorization", `Bearer ${apiKey}`);
    return next(req);
  };
  const grpcUrl = `http://${addresses.online}`;
  const httpUrl = `http://${httpAddresses.online}`;
  const transports: Record<string, () => Transport> = {
    "grpc port (grpc-js)": () => createGrpcTransport({ baseUrl: grpcUrl, interceptors: [bearer] }),
    "connect binary, HTTP/1.1": () => createConnectTransport({ baseUrl: httpUrl, httpVersion: "1.1", useBinaryFormat: true, interceptors: [bearer] }),
    // connect-node clients (and browsers) accept gzip, so the rows above get responses over 1 KiB
    // compressed; this one asks for none, as the gRPC port sends none.
    "connect binary, HTTP/1.1, no gzip": () =>
      createConnectTransport({ baseUrl: httpUrl, httpVersion: "1.1", useBinaryFormat: true, acceptCompression: [], interceptors: [bearer] }),
    "connect binary, h2": () => createConnectTransport({ baseUrl: httpUrl, httpVersion: "2", useBinaryFormat: true, interceptors: [bearer] }),
    "connect JSON, HTTP/1.1": () => createConnectTransport({ baseUrl: httpUrl, httpVersion: "1.1", useBinaryFormat: false, interceptors: [bearer] }),
    "grpc-web, HTTP/1.1": () => createGrpcWebTransport({ baseUrl: httpUrl, httpVersion: "1.1", interceptors: [bearer] }),
    "grpc over h2c, HTTP port": () => createGrpcTransport({ baseUrl: httpUrl, interceptors: [bearer] }),
  };
  const request = (batch: number, offset: number) => ({
    project: "bench_protocols",
    featureView: { name: view.name, version: view.version },
    entities: {
      rowCount: batch,
      servingKeys: [
        {
          name: "id",
          data: { values: { case: "int64s" as const, value: { values: Array.from({ length: batch }, (_, i) => BigInt((offset + i) % ENTITIES)) } } },
        },
      ],
    },
  });
  const results: Record<string, unknown>[] = [];
  for (const batch of [1, 100]) {
    for (const concurrency of [1, 16]) {
      let baseline: { p50: number; perSecond: number } | undefined;
      for (const [name, make] of Object.entries(transports)) {
        const client = createClient(OnlineService, make());
        // Warm up: connections, JIT.
        for (let i = 0; i < 50; i++) await client.getFeatureVectors(request(batch, i));
        const r = await measure(concurrency, (i) => client.getFeatureVectors(request(batch, i)).then(() => undefined));
        baseline ??= r;
        results.push({
          protocol: name,
          batch,
          concurrency,
          ...r,
          p50_vs_grpc_port: round(r.p50 / baseline.p50),
          throughput_vs_grpc_port: round(r.perSecond / baseline.perSecond),
        });
        console.error(JSON.stringify(results.at(-1)));
      }
    }
  }
  return { bench: "protocols", quick: QUICK, seconds_per_point: SECONDS, load_average: loadavg().map(round), results };
}

async function measure(concurrency: number, call: (i: number) => Promise<void>): Promise<{ calls: number; perSecond: number; p50: number; p99: number }> {
  const latencies: number[] = [];
  const end = performance.now() + SECONDS * 1000;
  let n = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        await call(n++);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN);
  return { calls: latencies.length, perSecond: Math.round(latencies.length / elapsed), p50: at(0.5), p99: at(0.99) };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
