// The SDK's own cost on the paths users hit most, against a suite in a child process:
//   - insert: rows/s of FeatureGroup.insert from plain objects and from an Arrow table (offline
//     commit + online push), 20 double features;
//   - online: GetFeatureVectors latency at batch 1 and 100 through the SDK (rows in, objects out)
//     and, in the same run, the same requests prebuilt and sent with the raw generated client
//     with the same deadline (the baseline: what the SDK adds is the difference).
// The last line is one JSON object.
//
//   npm run bench:client [-- --quick]
import { fork } from "node:child_process";
import { once } from "node:events";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as arrow from "apache-arrow";
import { createServiceClient } from "@granary/service-clients";
import { connect, type Row } from "@granary/client";
import { OnlineService } from "@granary/proto/online";
import { testKeys } from "@granary/testing";

const QUICK = process.argv.includes("--quick");
const ROWS = QUICK ? 20_000 : 100_000;
const FEATURES = 20;
const SECONDS = QUICK ? 1 : 3;

if (process.argv.includes("--child")) {
  const { startSuiteOnFreePorts } = await import("@granary/suite");
  const { createLogger } = await import("@granary/telemetry");
  const dir = mkdtempSync(join(tmpdir(), "granary-bench-client-"));
  chmodSync(dir, 0o755); // embedded PostgreSQL runs as user postgres when we are root
  // The keys the parent made (see below): an admin key for the calls, the service key for the suite.
  const { GRANARY_BOOTSTRAP_ADMIN_KEY = "", GRANARY_SERVICE_KEY = "" } = process.env;
  const env: Record<string, string> = { GRANARY_DATA_DIR: dir, GRANARY_LOG_LEVEL: "warn", GRANARY_BOOTSTRAP_ADMIN_KEY, GRANARY_SERVICE_KEY };
  if (process.env["DATABASE_URL"]) env["DATABASE_URL"] = process.env["DATABASE_URL"];
  const suite = await startSuiteOnFreePorts(env, createLogger({ level: "warn", service: "bench" }));
  process.send!({ addresses: suite.addresses });
  process.on("message", () => {
    void suite.stop().finally(() => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    });
  });
} else {
  const keys = testKeys();
  const child = fork(new URL(import.meta.url).pathname, ["--child"], { execArgv: ["--import", "tsx"], stdio: "inherit", env: { ...process.env, ...keys.env } });
  const [{ addresses }] = (await once(child, "message")) as [{ addresses: Record<"metadata" | "online" | "offline" | "registry", string> }];
  try {
    console.log(JSON.stringify(await run(addresses, keys.adminKey)));
  } finally {
    child.send("stop");
    await once(child, "exit");
  }
}

async function run(addresses: Record<"metadata" | "online" | "offline" | "registry", string>, apiKey: string) {
  const granary = connect({ addresses, apiKey });
  await granary.waitUntilServing(60_000);
  const project = await granary.project("bench_client");
  const features = Array.from({ length: FEATURES }, (_, i) => `f${i}`);
  const group = await project.getOrCreateFeatureGroup({
    name: "entities",
    columns: [{ name: "id", type: "int64" }, { name: "ts", type: "timestamp" }, ...features.map((name) => ({ name, type: "double" }))],
    primaryKey: ["id"],
    eventTime: "ts",
    onlineEnabled: true,
  });
  const now = new Date();
  const rows: Row[] = Array.from({ length: ROWS }, (_, id) => Object.fromEntries([["id", id], ["ts", now], ...features.map((f, j) => [f, id + j / 100])]));

  let t = performance.now();
  await group.insert(rows);
  const insertRowsPerSec = ROWS / ((performance.now() - t) / 1000);

  const table = new arrow.Table({
    id: arrow.vectorFromArray(BigInt64Array.from({ length: ROWS }, (_, i) => BigInt(i))),
    ts: arrow.makeVector(
      arrow.makeData({
        type: new arrow.TimestampMicrosecond("UTC"),
        length: ROWS,
        data: BigInt64Array.from({ length: ROWS }, () => BigInt(now.getTime() + 1) * 1000n),
      }),
    ),
    ...Object.fromEntries(features.map((f, j) => [f, arrow.makeVector(Float64Array.from({ length: ROWS }, (_, i) => i + j / 100 + 1))])),
  });
  t = performance.now();
  await group.insert(table);
  const insertArrowRowsPerSec = ROWS / ((performance.now() - t) / 1000);

  const view = await project.getOrCreateFeatureView({ name: "entities_view", query: group.selectAll() });
  // The online push runs from the offline service's outbox: wait until the last row is served.
  for (const until = Date.now() + 60_000; Date.now() < until; await new Promise((r) => setTimeout(r, 100))) {
    const v = await view.getFeatureVector({ id: ROWS - 1 });
    if (v["f0"] === ROWS - 1 + 1) break;
  }

  const raw = createServiceClient(OnlineService, addresses.online, { apiKey });
  const result: Record<string, unknown> = {
    rows: ROWS,
    features: FEATURES,
    insert_rows_per_s: Math.round(insertRowsPerSec),
    insert_arrow_rows_per_s: Math.round(insertArrowRowsPerSec),
  };
  for (const batch of [1, 100]) {
    const entries = (k: number) => Array.from({ length: batch }, (_, i) => ({ id: (k * batch + i) % ROWS }));
    const requests = Array.from({ length: 64 }, (_, k) => ({
      project: project.name,
      featureView: { name: view.name, version: view.version },
      entities: view.entityRows(entries(k)),
    }));
    // The same 30 s deadline the SDK puts on every call; the two callers alternate call by call,
    // so both see the same machine (measured one after the other, the order alone moved p50 by 30 %).
    const [sdk, baseline] = await measurePair(
      async (k) => {
        const out = await view.getFeatureVectors(entries(k));
        if (out.length !== batch) throw new Error("short answer");
      },
      async (k) => {
        const res = await raw.getFeatureVectors(requests[k % requests.length]!, { timeoutMs: 30_000 });
        if (res.vectors?.rowCount !== batch) throw new Error("short answer");
      },
    );
    result[`batch${batch}`] = { sdk, raw_client: baseline };
  }
  return result;
}

type Stats = { p50_ms: number; p99_ms: number; calls_per_s: number };

async function measurePair(a: (k: number) => Promise<void>, b: (k: number) => Promise<void>): Promise<[Stats, Stats]> {
  for (let k = 0; k < 200; k++) {
    await a(k);
    await b(k);
  }
  const la: number[] = [];
  const lb: number[] = [];
  const start = performance.now();
  for (let k = 0; performance.now() - start < 2 * SECONDS * 1000; k++) {
    let t = performance.now();
    await a(k);
    la.push(performance.now() - t);
    t = performance.now();
    await b(k);
    lb.push(performance.now() - t);
  }
  return [stats(la), stats(lb)];
}

function stats(latencies: number[]): Stats {
  latencies.sort((x, y) => x - y);
  const at = (p: number) => Number(latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!.toFixed(3));
  const total = latencies.reduce((x, y) => x + y, 0);
  return { p50_ms: at(50), p99_ms: at(99), calls_per_s: Math.round(latencies.length / (total / 1000)) };
}
