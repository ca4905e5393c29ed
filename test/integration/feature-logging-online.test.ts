import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createServer } from "node:net";
import type { Client } from "@connectrpc/connect";
import type * as arrow from "apache-arrow";
import { createServiceClient } from "@granary/service-clients";
import { loadMetadataConfig, startMetadataService } from "@granary/metadata";
import { loadOfflineConfig, startOfflineService, tableFromChunks } from "@granary/offline";
import { loadOnlineConfig, startOnlineService } from "@granary/online";
import { MetadataService } from "@granary/proto/metadata";
import { OfflineService } from "@granary/proto/offline";
import { OnlineService } from "@granary/proto/online";
import { ScalarType, type ColumnData } from "@granary/proto/types";
import type { RunningService } from "@granary/server";
import { createLogger } from "@granary/telemetry";
import { createTestDatabase, scratchDir, testKeys, waitFor, waitForServing, type TestDatabase } from "@granary/testing";

const keys = testKeys();
const P = "shop";
const dir = scratchDir("feature-logging-online");
const VIEW = { name: "cardview", version: 1 };
const LOGS = { name: "cardview_1_logging", version: 1 };
const logger = createLogger({ level: "error", service: "test" });
let db: TestDatabase;
const services: RunningService[] = [];
let metadataAddress = "";
let md: Client<typeof MetadataService>;
let off: Client<typeof OfflineService>;
let on: Client<typeof OnlineService>;
let offlineAddress = "";
let lastOnlineAddress = "";

const i64 = (values: bigint[]): ColumnData => ({ values: { case: "int64s", value: { values } } }) as unknown as ColumnData;
const f64 = (values: number[]): ColumnData => ({ values: { case: "doubles", value: { values } } }) as unknown as ColumnData;
const ts = (values: bigint[]): ColumnData => ({ values: { case: "timestamps", value: { values } } }) as unknown as ColumnData;
const plain = (t: arrow.Table) =>
  t.toArray().map((r) => JSON.parse(JSON.stringify(r.toJSON(), (_, v) => (typeof v === "bigint" ? Number(v) : v))) as Record<string, unknown>);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** An online service of its own (own LMDB), logging to `offlineAddress`, with the cards written to it. */
async function startOnline(name: string, offlineAddress: string, env: Record<string, string> = {}): Promise<Client<typeof OnlineService>> {
  const online = await startOnlineService(
    loadOnlineConfig({
      ...keys.env,
      GRANARY_ONLINE_PORT: "0",
      GRANARY_DATA_DIR: `${dir.path}/${name}`,
      GRANARY_METADATA_ADDRESS: metadataAddress,
      GRANARY_OFFLINE_ADDRESS: offlineAddress,
      GRANARY_ONLINE_FEATURE_LOG_INTERVAL_MS: "100",
      ...env,
    }),
    logger,
  );
  services.push(online);
  lastOnlineAddress = online.address;
  await waitForServing(online.address, 20_000);
  const client = createServiceClient(OnlineService, online.address, { apiKey: keys.adminKey });
  const n = 100;
  await client.writeRows({
    project: P,
    featureGroup: { name: "cards", version: 1 },
    rows: {
      case: "columns",
      value: {
        rowCount: n,
        columns: [
          { name: "cc_num", data: i64(Array.from({ length: n }, (_, i) => BigInt(i))) },
          { name: "event_time", data: ts(Array.from({ length: n }, () => BigInt(Date.UTC(2025, 0, 1)) * 1000n)) },
          { name: "avg_amount", data: f64(Array.from({ length: n }, (_, i) => i * 10)) },
        ],
      },
    },
  });
  return client;
}

const serve = (client: Client<typeof OnlineService>, ids: number[]) =>
  client.getFeatureVectors({
    project: P,
    featureView: VIEW,
    entities: {
      rowCount: ids.length,
      servingKeys: [{ name: "cc_num", data: i64(ids.map(BigInt)) }],
      requestParameters: [{ name: "amount", data: f64(ids.map((i) => i + 0.5)) }],
    },
  });

const status = async (client: Client<typeof OnlineService>) => {
  const s = (await client.getReplicaStatus({})).featureLogging!;
  return { logged: Number(s.logged), dropped: Number(s.dropped), queued: Number(s.queued) };
};

const readLogs = async () => plain(await tableFromChunks(off.read({ project: P, featureGroup: LOGS }))).filter((r) => r.source === "online");

/** Waits until the online service's catalogue has the view's current logging settings (its lookups then log or not). */
async function enable(sampleRate: number) {
  await md.enableFeatureLogging({ project: P, featureView: VIEW, logging: { onlineEnabled: true, sampleRate } });
}

beforeAll(async () => {
  db = await createTestDatabase("feature_logging_online");
  const metadata = await startMetadataService(
    loadMetadataConfig({ ...keys.env, GRANARY_METADATA_PORT: "0", GRANARY_DATA_DIR: dir.path, DATABASE_URL: db.url }),
    logger,
  );
  services.push(metadata);
  metadataAddress = metadata.address;
  md = createServiceClient(MetadataService, metadata.address, { apiKey: keys.adminKey });
  await md.createProject({ name: P });
  await md.createFeatureGroup({
    featureGroup: {
      project: P,
      name: "cards",
      version: 1,
      columns: [
        { name: "cc_num", type: { scalar: ScalarType.INT64 } },
        { name: "event_time", type: { scalar: ScalarType.TIMESTAMP } },
        { name: "avg_amount", type: { scalar: ScalarType.DOUBLE } },
      ],
      primaryKey: ["cc_num"],
      eventTime: "event_time",
      onlineEnabled: true,
    },
  });
  await md.createFeatureView({
    featureView: {
      project: P,
      ...VIEW,
      query: { featureGroup: { name: "cards", version: 1 } },
      onDemandFeatures: [
        {
          name: "ratio",
          type: { scalar: ScalarType.DOUBLE },
          expression: "amount / avg_amount",
          requestParameters: [{ name: "amount", type: { scalar: ScalarType.DOUBLE } }],
        },
      ],
    },
  });
  // The offline port is chosen first: the online service is configured with it.
  const offlinePort = await freePort();
  on = await startOnline("main", `127.0.0.1:${offlinePort}`);
  const offline = await startOfflineService(
    loadOfflineConfig({
      ...keys.env,
      GRANARY_OFFLINE_PORT: String(offlinePort),
      GRANARY_DATA_DIR: `${dir.path}/offline`,
      GRANARY_METADATA_ADDRESS: metadata.address,
      GRANARY_OFFLINE_DUCKDB_MEMORY: "256MB",
    }),
    logger,
  );
  services.push(offline);
  offlineAddress = offline.address;
  await waitForServing(offline.address, 20_000);
  off = createServiceClient(OfflineService, offline.address, { apiKey: keys.adminKey });
}, 120_000);

afterAll(async () => {
  for (const s of services.reverse()) await s.stop();
  await db?.drop();
  dir.remove();
}, 60_000);

describe("online feature logging", () => {
  it("logs nothing for a view that does not log online", async () => {
    await serve(on, [1, 2, 3]);
    await new Promise((r) => setTimeout(r, 300));
    expect(await status(on)).toEqual({ logged: 0, dropped: 0, queued: 0 });
  });

  it("logs the vectors it serves once enabled: keys, features, request parameters, source online", async () => {
    await enable(1);
    // The online catalogue follows the change: once it has, a lookup is logged.
    await waitFor(
      async () => {
        await serve(on, [7]);
        return (await status(on)).logged + (await status(on)).queued > 0;
      },
      { timeoutMs: 10_000, what: "logging enabled online" },
    );
    await waitFor(async () => (await status(on)).queued === 0, { timeoutMs: 10_000, what: "the queue flushed" });
    const before = (await status(on)).logged;
    const res = await serve(on, [3, 4]);
    expect(res.vectors!.rowCount).toBe(2);
    await waitFor(async () => (await status(on)).logged === before + 2, { timeoutMs: 10_000, what: "two vectors logged" });
    const rows = await readLogs();
    const mine = rows.filter((r) => r.cc_num === 3 || r.cc_num === 4).sort((a, b) => Number(a.cc_num) - Number(b.cc_num));
    expect(mine.map(({ log_id: _id, log_time: _t, ...r }) => r)).toEqual([
      {
        cc_num: 3,
        event_time: Date.UTC(2025, 0, 1),
        avg_amount: 30,
        ratio: 3.5 / 30,
        request_amount: 3.5,
        prediction: null,
        model: null,
        model_version: null,
        training_dataset_version: null,
        source: "online",
      },
      {
        cc_num: 4,
        event_time: Date.UTC(2025, 0, 1),
        avg_amount: 40,
        ratio: 4.5 / 40,
        request_amount: 4.5,
        prediction: null,
        model: null,
        model_version: null,
        training_dataset_version: null,
        source: "online",
      },
    ]);
    expect(Math.abs(Number(mine[0]!.log_time) - Date.now())).toBeLessThan(60_000);
  });

  it("respects the sample rate approximately", async () => {
    await enable(0.3);
    await waitFor(async () => (await md.getFeatureView({ project: P, ...VIEW })).featureView!.logging!.sampleRate === 0.3, {
      timeoutMs: 5_000,
      what: "sample rate stored",
    });
    // The online catalogue has the new rate once a lookup of 100 no longer logs all 100.
    const total = async () => Object.values(await status(on)).reduce((a, b) => a + b, 0);
    await waitFor(
      async () => {
        const t0 = await total();
        await serve(
          on,
          Array.from({ length: 100 }, (_, i) => i),
        );
        return (await total()) - t0 < 100;
      },
      { timeoutMs: 10_000, what: "the sample rate applied online" },
    );
    await waitFor(async () => (await status(on)).queued === 0, { timeoutMs: 10_000, what: "the queue flushed" });
    const before = (await status(on)).logged;
    const ids = Array.from({ length: 100 }, (_, i) => i);
    for (let i = 0; i < 10; i++) await serve(on, ids);
    await new Promise((r) => setTimeout(r, 300));
    await waitFor(async () => (await status(on)).queued === 0, { timeoutMs: 10_000, what: "the queue flushed" });
    const logged = (await status(on)).logged - before;
    // 1,000 vectors at 0.3: 300 expected, standard deviation about 14.5.
    expect(logged).toBeGreaterThan(220);
    expect(logged).toBeLessThan(380);
    expect((await status(on)).dropped).toBe(0);
  });

  it("a full queue drops and counts while GetFeatureVectors keeps answering", async () => {
    await enable(1);
    // A queue of 5 that is never flushed during the test (interval 10 minutes).
    const tiny = await startOnline("tiny", "127.0.0.1:1", { GRANARY_ONLINE_FEATURE_LOG_QUEUE: "5", GRANARY_ONLINE_FEATURE_LOG_INTERVAL_MS: "600000" });
    await waitFor(
      async () => {
        await serve(tiny, [1]);
        return (await status(tiny)).queued > 0;
      },
      { timeoutMs: 10_000, what: "logging enabled on the second replica" },
    );
    const before = await status(tiny);
    const res = await serve(
      tiny,
      Array.from({ length: 20 }, (_, i) => i),
    );
    expect(res.vectors!.rowCount).toBe(20);
    expect(res.vectors!.columns.find((c) => c.name === "avg_amount")!.statuses.every((s) => s === 1)).toBe(true);
    const after = await status(tiny);
    expect(after.queued).toBe(5);
    expect(after.dropped - before.dropped).toBe(20 - (5 - before.queued));
  });

  it("an unreachable offline service: vectors are dropped and counted, serving is unaffected", async () => {
    // Nothing listens on this port: every LogFeatures fails.
    const deadPort = await freePort();
    const cut = await startOnline("cut", `127.0.0.1:${deadPort}`);
    await waitFor(
      async () => {
        const res = await serve(cut, [1, 2]);
        expect(res.vectors!.rowCount).toBe(2);
        return (await status(cut)).dropped > 0;
      },
      { timeoutMs: 20_000, what: "drops counted" },
    );
    const before = await status(cut);
    for (let i = 0; i < 5; i++) expect((await serve(cut, [5, 6, 7])).vectors!.rowCount).toBe(3);
    await waitFor(async () => (await status(cut)).queued === 0, { timeoutMs: 20_000, what: "the failed batches settled" });
    const after = await status(cut);
    expect(after.dropped - before.dropped).toBe(15 + before.queued);
    expect(after.logged).toBe(0);
  });

  it("with GRANARY_ONLINE_WORKERS=2 every worker logs what it serves", async () => {
    await enable(1);
    await startOnline("workers", offlineAddress, { GRANARY_ONLINE_WORKERS: "2" });
    // Connections are spread over the workers (cluster round robin): four clients, four connections.
    const clients = Array.from({ length: 4 }, () => createServiceClient(OnlineService, lastOnlineAddress, { apiKey: keys.adminKey }));
    const marker = (i: number) => 5000 + i;
    const lookup = (i: number) =>
      clients[i % clients.length]!.getFeatureVectors({
        project: P,
        featureView: VIEW,
        entities: { rowCount: 1, servingKeys: [{ name: "cc_num", data: i64([BigInt(i)]) }], requestParameters: [{ name: "amount", data: f64([marker(i)]) }] },
      });
    // Each worker follows the catalogue on its own: wait until a lookup on every connection is logged.
    await waitFor(
      async () => {
        for (let i = 0; i < 4; i++) await lookup(i);
        const seen = new Set((await readLogs()).map((r) => r.request_amount));
        return [0, 1, 2, 3].every((i) => seen.has(marker(i)));
      },
      { timeoutMs: 30_000, intervalMs: 500, what: "lookups on every connection logged" },
    );
    for (let i = 10; i < 30; i++) expect((await lookup(i)).vectors!.rowCount).toBe(1);
    await waitFor(
      async () => {
        const seen = new Set((await readLogs()).map((r) => r.request_amount));
        return Array.from({ length: 20 }, (_, k) => marker(10 + k)).every((m) => seen.has(m));
      },
      { timeoutMs: 20_000, what: "all 20 vectors logged" },
    );
  });
});
