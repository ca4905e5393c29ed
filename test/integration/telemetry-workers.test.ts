import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { join } from "node:path";
import type { Client } from "@connectrpc/connect";
import { EnvReader, readCommonConfig } from "@granary/config";
import { loadMetadataConfig, startMetadataService } from "@granary/metadata";
import { loadOnlineConfig, startOnlineService, type OnlineRunningService } from "@granary/online";
import { MetadataService } from "@granary/proto/metadata";
import { OnlineService } from "@granary/proto/online";
import { ScalarType } from "@granary/proto/types";
import type { RunningService } from "@granary/server";
import { createServiceClient } from "@granary/service-clients";
import { createLogger, parsePrometheusText, sampleSum, startTelemetry, type Telemetry } from "@granary/telemetry";
import { createTestDatabase, scratchDir, testKeys, waitFor, waitForServing, type TestDatabase } from "@granary/testing";
import { nowMicros, spendOf, spendRows } from "./support/customer-spend.js";

// /metrics of the online service with GRANARY_ONLINE_WORKERS=2 (decision 0012): the primary (this
// process) serves it and sums what each worker process counted, asked over IPC at the scrape.
// Connections are dealt to the workers round-robin, so the clients below reach both.
const keys = testKeys();
const P = "shop";
const dir = scratchDir("telemetry-workers");
const logger = createLogger({ level: "warn", service: "test" });
const env = { ...keys.env, GRANARY_METRICS_PORT: "0" };
let telemetry: Telemetry;
let metricsUrl: string;
let db: TestDatabase;
let metadata: RunningService;
let online: OnlineRunningService | undefined;

const connect = (address: string) => createServiceClient(OnlineService, address, { apiKey: keys.adminKey });
const scrape = async () => parsePrometheusText(await (await fetch(metricsUrl)).text());
const view = { granary_project: P, granary_feature_view: "spend" };
const method = { rpc_method: "granary.online.v1.OnlineService/GetFeatureVectors", rpc_status_code: "OK" };

beforeAll(async () => {
  const reader = new EnvReader(env);
  telemetry = startTelemetry(readCommonConfig(reader, "granary-online").telemetry);
  reader.finish();
  metricsUrl = `http://${await telemetry.metricsAddress()}/metrics`;
  db = await createTestDatabase("telemetry_workers");
  metadata = await startMetadataService(
    loadMetadataConfig({ ...keys.env, GRANARY_METADATA_PORT: "0", GRANARY_DATA_DIR: dir.path, DATABASE_URL: db.url }),
    logger,
  );
  const md: Client<typeof MetadataService> = createServiceClient(MetadataService, metadata.address, { apiKey: keys.adminKey });
  await md.createProject({ name: P });
  await md.createFeatureGroup({
    featureGroup: {
      project: P,
      name: "customers",
      version: 1,
      columns: [
        { name: "customer_id", type: { scalar: ScalarType.INT64 } },
        { name: "spend", type: { scalar: ScalarType.DOUBLE } },
        { name: "event_time", type: { scalar: ScalarType.TIMESTAMP } },
      ],
      primaryKey: ["customer_id"],
      eventTime: "event_time",
      onlineEnabled: true,
    },
  });
  await md.createFeatureView({ featureView: { project: P, name: "spend", version: 1, query: { featureGroup: { name: "customers", version: 1 } } } });
  // The workers get the same settings: each keeps its metrics for the primary to ask for.
  online = await startOnlineService(
    loadOnlineConfig({
      ...env,
      GRANARY_ONLINE_WORKERS: "2",
      GRANARY_ONLINE_PORT: "0",
      GRANARY_DATA_DIR: dir.path,
      GRANARY_ONLINE_LMDB_PATH: join(dir.path, "online"),
      GRANARY_METADATA_ADDRESS: metadata.address,
    }),
    logger,
  );
  await waitForServing(online.address, 20_000);
  await online.ready?.();
}, 90_000);

afterAll(async () => {
  await online?.stop();
  await metadata?.stop();
  await telemetry?.shutdown();
  await db?.drop();
  dir.remove();
}, 60_000);

describe("/metrics of the online primary with two workers", () => {
  let lookups = 0;

  it("shows every worker's lookups and writes, summed", async () => {
    const clients = Array.from({ length: 4 }, () => connect(online!.address));
    const at = nowMicros();
    for (const [i, client] of clients.entries())
      await client.writeRows({
        project: P,
        featureGroup: { name: "customers", version: 1 },
        rows: { case: "columns", value: spendRows([BigInt(i)], [i], at) },
      });
    for (let round = 0; round < 3; round++) {
      for (const client of clients) {
        await spendOf(client, P, [0n, 1n, 2n]);
        lookups++;
      }
    }
    const samples = await scrape();
    expect(sampleSum(samples, "granary_online_lookups_total", view)).toBe(lookups);
    expect(sampleSum(samples, "granary_online_lookup_entities_total", view)).toBe(lookups * 3);
    expect(sampleSum(samples, "rpc_server_call_duration_count", method)).toBe(lookups);
    expect(sampleSum(samples, "granary_online_rows_total", { granary_project: P, granary_write_result: "written" })).toBe(4);
    // A gauge merges by its largest value: the newest event time any worker wrote.
    expect(sampleSum(samples, "granary_online_newest_event_time", { granary_project: P })).toBe(Number(at / 1000n) / 1000);
    // One target: one target_info, the primary's.
    expect(samples.filter((s) => s.name === "target_info")).toHaveLength(1);
  });

  it("keeps a killed worker's counts: the pod's counters never go backwards", async () => {
    const before = sampleSum(await scrape(), "granary_online_lookups_total", view);
    const [victim] = online!.workerPids();
    process.kill(victim!, "SIGKILL");
    await waitFor(() => online!.workerPids().length === 2 && !online!.workerPids().includes(victim!), { timeoutMs: 15_000 });
    await waitFor(async () => (await spendOf(connect(online!.address), P, [1n]).catch(() => []))[0] === 1, { timeoutMs: 15_000 });
    const after = sampleSum(await scrape(), "granary_online_lookups_total", view);
    expect(after).toBeGreaterThanOrEqual(before + 1);
  }, 40_000);
});
