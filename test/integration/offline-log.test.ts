import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import * as arrow from "apache-arrow";
import { createServiceClient } from "@granary/service-clients";
import { loadMetadataConfig, startMetadataService } from "@granary/metadata";
import { arrowPayloads, loadOfflineConfig, startOfflineService, tableFromChunks } from "@granary/offline";
import { loadOnlineConfig, startOnlineService } from "@granary/online";
import { MetadataService, OnlineSyncState, ValidationPolicy } from "@granary/proto/metadata";
import { OfflineService } from "@granary/proto/offline";
import { OnlineService, type FeatureVectors } from "@granary/proto/online";
import { ColumnarRowsSchema, ScalarType, ValueStatus, type ColumnData, type ColumnarRows } from "@granary/proto/types";
import type { RunningService } from "@granary/server";
import { createLogger } from "@granary/telemetry";
import { createTestDatabase, scratchDir, testKeys, waitFor, waitForServing, type TestDatabase } from "@granary/testing";
import { JetStreamWriteLog } from "@granary/write-log";
import { TEST_NATS_URL, TcpProxy, isolatedLog, natsDescribe } from "@granary/write-log/testing";
import { f64, i64, ts } from "./support/customer-spend.js";

// Offline history fed by the write log (issue 16) on the machine's NATS (JetStream on 127.0.0.1:4222):
// CI requires it; elsewhere without NATS this file reports why it did not run. The streams are this
// file's own and are deleted at the end; no test stops the server.
const describeIfNats = await natsDescribe("the offline write-log tests");

const keys = testKeys();
const P = "shop";
const LOG = isolatedLog("offline");
const STREAM = LOG.stream;
const PREFIX = LOG.subjectPrefix;
const dir = scratchDir("offline-log");
const logger = createLogger({ level: "warn", service: "test" });
const natsEnv = { GRANARY_NATS_URL: TEST_NATS_URL, GRANARY_NATS_STREAM: STREAM, GRANARY_NATS_SUBJECT_PREFIX: PREFIX };
let db: TestDatabase | undefined;
let metadata: RunningService | undefined;
let online: RunningService | undefined;
let offline: RunningService | undefined;
let md: Client<typeof MetadataService>;
let on: Client<typeof OnlineService>;
let off: Client<typeof OfflineService>;

const customers = { name: "customers", version: 1 };
/** A fixed past instant, so training data and reads see every row. */
const T0 = BigInt(Date.UTC(2026, 0, 1)) * 1000n;

function rows(ids: bigint[], spend: number[], at = T0): ColumnarRows {
  return create(ColumnarRowsSchema, {
    rowCount: ids.length,
    columns: [
      { name: "customer_id", data: i64(ids) },
      { name: "spend", data: f64(spend) },
      { name: "event_time", data: ts(ids.map(() => at)) },
    ],
  });
}

const write = (ids: bigint[], spend: number[], at = T0) =>
  on.writeRows({ project: P, featureGroup: customers, rows: { case: "columns", value: rows(ids, spend, at) } });

/** Offline history of a group: (id, value) pairs sorted by id, every row as stored (a duplicate would show twice). */
async function history(group = "customers", key = "customer_id", value = "spend"): Promise<[number, number][]> {
  const table = await tableFromChunks(off.read({ project: P, featureGroup: { name: group, version: 1 } }));
  return table
    .toArray()
    .map((r) => {
      const row = r.toJSON() as Record<string, unknown>;
      return [Number(row[key]), Number(row[value])] as [number, number];
    })
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}

async function waitForHistory(expected: [number, number][], group?: string): Promise<void> {
  await waitFor(async () => JSON.stringify(await history(group).catch(() => [])) === JSON.stringify(expected), { timeoutMs: 20_000 });
  expect(await history(group)).toEqual(expected);
}

function startOffline(natsUrl = TEST_NATS_URL): Promise<RunningService> {
  return startOfflineService(
    loadOfflineConfig({
      ...keys.env,
      ...natsEnv,
      GRANARY_NATS_URL: natsUrl,
      GRANARY_OFFLINE_PORT: "0",
      GRANARY_DATA_DIR: dir.path,
      GRANARY_METADATA_ADDRESS: metadata!.address,
      GRANARY_ONLINE_ADDRESS: online!.address,
      GRANARY_OFFLINE_DUCKDB_MEMORY: "256MB",
      GRANARY_OFFLINE_STREAM_MAX_MS: "200",
    }),
    logger,
  );
}

async function restartOffline(natsUrl?: string): Promise<void> {
  offline = await startOffline(natsUrl);
  off = createServiceClient(OfflineService, offline.address, { apiKey: keys.adminKey });
  await waitForServing(offline.address, 20_000);
}

describeIfNats("offline history fed by the write log on NATS JetStream", () => {
  beforeAll(async () => {
    db = await createTestDatabase("offline_log");
    metadata = await startMetadataService(
      loadMetadataConfig({ ...keys.env, GRANARY_METADATA_PORT: "0", GRANARY_DATA_DIR: dir.path, DATABASE_URL: db.url }),
      logger,
    );
    md = createServiceClient(MetadataService, metadata.address, { apiKey: keys.adminKey });
    await md.createProject({ name: P });
    const columns = [
      { name: "customer_id", type: { scalar: ScalarType.INT64 } },
      { name: "spend", type: { scalar: ScalarType.DOUBLE } },
      { name: "event_time", type: { scalar: ScalarType.TIMESTAMP } },
    ];
    await md.createFeatureGroup({
      featureGroup: {
        project: P,
        ...customers,
        columns,
        primaryKey: ["customer_id"],
        eventTime: "event_time",
        onlineEnabled: true,
        validationRules: [{ name: "spend_positive", column: "spend", policy: ValidationPolicy.FAIL, rule: { case: "between", value: { min: 0 } } }],
      },
    });
    await md.createFeatureGroup({
      featureGroup: { project: P, name: "orders", version: 1, columns, primaryKey: ["customer_id"], eventTime: "event_time", onlineEnabled: true },
    });
    await md.createFeatureView({ featureView: { project: P, name: "spend", version: 1, query: { featureGroup: customers } } });
    await md.createFeatureView({ featureView: { project: P, name: "orders", version: 1, query: { featureGroup: { name: "orders", version: 1 } } } });
    online = await startOnlineService(
      loadOnlineConfig({
        ...keys.env,
        ...natsEnv,
        GRANARY_ONLINE_PORT: "0",
        GRANARY_DATA_DIR: dir.path,
        GRANARY_ONLINE_LMDB_PATH: join(dir.path, "online"),
        GRANARY_METADATA_ADDRESS: metadata.address,
      }),
      logger,
    );
    on = createServiceClient(OnlineService, online.address, { apiKey: keys.adminKey });
    await waitForServing(online.address, 20_000);
    await restartOffline();
  }, 60_000);

  afterAll(async () => {
    await offline?.stop();
    await online?.stop();
    await metadata?.stop();
    await db?.drop();
    await LOG.remove();
    dir.remove();
  }, 30_000);

  it("commits rows written with online WriteRows to offline history, once, as ordinary commits", async () => {
    await write([1n, 2n], [10, 20]);
    await write([3n], [30]);
    await waitForHistory([
      [1, 10],
      [2, 20],
      [3, 30],
    ]);
    const { commits } = await md.listCommits({ project: P, featureGroup: customers });
    expect(commits.length).toBeGreaterThanOrEqual(1);
    // The log carried the rows online already: nothing is left for the outbox to push.
    expect(commits.every((c) => c.onlineSyncState === OnlineSyncState.SYNCED)).toBe(true);
    const training = await tableFromChunks(off.getTrainingData(spineless("spend")));
    expect(training.numRows).toBe(3);
  });

  it("keeps a duplicate publish once: the same msgId, and the same rows sent again", async () => {
    const log = await JetStreamWriteLog.connect({
      url: TEST_NATS_URL,
      stream: STREAM,
      deadStream: `${STREAM}_DEAD`,
      subjectPrefix: PREFIX,
      deadSubjectPrefix: `${PREFIX}-dead`,
    });
    try {
      const batch = { project: P, group: "customers", version: 1, kind: "upsert", origin: "external", rows: rows([4n], [40]), msgId: `dup-${STREAM}` } as const;
      const first = await log.append(batch);
      const second = await log.append(batch);
      expect(second).toMatchObject({ duplicate: true, sequence: first.sequence });
      // A different message with the same (key, event time): history keeps one row.
      await log.append({ ...batch, msgId: `dup-again-${STREAM}` });
    } finally {
      await log.close();
    }
    await waitForHistory([
      [1, 10],
      [2, 20],
      [3, 30],
      [4, 40],
    ]);
  });

  it("sends a batch breaking a FAIL rule to the dead letters with the reason, and commits the others", async () => {
    const bad = await write([50n], [-5]);
    await write([51n], [51]);
    await waitForHistory([
      [1, 10],
      [2, 20],
      [3, 30],
      [4, 40],
      [51, 51],
    ]);
    await waitFor(async () => (await on.listDeadLetters({ project: P, limit: 10 })).deadLetters.some((d) => d.originalSequence === bad.logSequence), {
      timeoutMs: 10_000,
    });
    const { deadLetters } = await on.listDeadLetters({ project: P, limit: 10 });
    const dead = deadLetters.find((d) => d.originalSequence === bad.logSequence)!;
    expect(dead.reason).toMatch(/breaks validation rules with policy FAIL \(rule spend_positive on spend: 1 values outside \[0, inf\]\)/);
    expect(dead.subject).toBe(`${PREFIX}.${P}.customers.v1`);
  });

  it("commits every row exactly once across a restart of the offline service mid-stream", async () => {
    const ids = Array.from({ length: 30 }, (_, i) => 100 + i);
    const writes = (async () => {
      for (const n of ids) await write([BigInt(n)], [n]);
    })();
    await new Promise((r) => setTimeout(r, 150));
    await offline!.stop();
    await writes;
    await restartOffline();
    await waitForHistory([[1, 10], [2, 20], [3, 30], [4, 40], [51, 51], ...ids.map((n): [number, number] => [n, n])]);
  }, 60_000);

  it("sends an offline Insert's and DeleteRows' online copies through the log, and does not take them back into history", async () => {
    const table = new arrow.Table({
      customer_id: arrow.vectorFromArray([7n, 8n], new arrow.Int64()),
      spend: arrow.vectorFromArray([70, 80], new arrow.Float64()),
      event_time: arrow.vectorFromArray([Number(T0 / 1000n), Number(T0 / 1000n)], new arrow.TimestampMillisecond()),
    });
    async function* requests() {
      yield { message: { case: "header" as const, value: { project: P, featureGroup: { name: "orders", version: 1 } } } };
      for (const ipc of arrowPayloads(table)) yield { message: { case: "chunk" as const, value: { ipc } } };
    }
    const inserted = await off.insert(requests());
    expect(inserted.rowsInserted).toBe(2n);
    const lookup = async () => {
      const res = await on.getFeatureVectors({
        project: P,
        featureView: { name: "orders", version: 1 },
        entities: { rowCount: 2, servingKeys: [{ name: "customer_id", data: i64([7n, 8n]) }] },
      });
      const column = (res.vectors as FeatureVectors).columns.find((c) => c.name === "spend")!;
      const values = (column.values?.values.value as { values: number[] }).values;
      return [0, 1].map((i) => (column.statuses[i] === ValueStatus.PRESENT ? values[i] : undefined));
    };
    await waitFor(async () => (await lookup())[1] === 80, { timeoutMs: 15_000 });
    expect(await lookup()).toEqual([70, 80]);
    const status = await on.getReplicaStatus({});
    expect(status.appliedSequence).toBeGreaterThan(0n);
    // The consumer saw the batch (origin "insert") and skipped it: history holds the insert once.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await history("orders")).toEqual([
      [7, 70],
      [8, 80],
    ]);
    const { commits } = await md.listCommits({ project: P, featureGroup: { name: "orders", version: 1 } });
    expect(commits).toHaveLength(1);
    expect(commits[0]!.onlineSyncState).toBe(OnlineSyncState.SYNCED);

    // An offline delete reaches online as a tombstone through the log; history keeps the insert's commit and the delete's.
    async function* keys() {
      yield { message: { case: "header" as const, value: { project: P, featureGroup: { name: "orders", version: 1 } } } };
      const ids = new arrow.Table({ customer_id: arrow.vectorFromArray([7n], new arrow.Int64()) });
      for (const ipc of arrowPayloads(ids)) yield { message: { case: "chunk" as const, value: { ipc } } };
    }
    await off.deleteRows(keys());
    await waitFor(async () => (await lookup())[0] === undefined, { timeoutMs: 15_000 });
    expect(await lookup()).toEqual([undefined, 80]);
    expect(await history("orders")).toEqual([[8, 80]]);
  }, 30_000);

  it("orders an offline DeleteRows after rows pushed just before it, in history as online", async () => {
    // Pushed, then at once deleted offline: online applies the write and then the delete's
    // tombstone; history must not commit the pushed row after the delete (it would come back).
    await write([900n], [9]);
    async function* keys() {
      yield { message: { case: "header" as const, value: { project: P, featureGroup: customers } } };
      const ids = new arrow.Table({ customer_id: arrow.vectorFromArray([900n], new arrow.Int64()) });
      for (const ipc of arrowPayloads(ids)) yield { message: { case: "chunk" as const, value: { ipc } } };
    }
    await off.deleteRows(keys());
    // Everything written since is in history before this marker is.
    await write([901n], [1]);
    await waitFor(async () => (await history()).some(([id]) => id === 901), { timeoutMs: 20_000 });
    expect((await history()).filter(([id]) => id === 900)).toEqual([]);
  }, 30_000);

  it("goes on from where it stopped after a NATS outage, every row committed once; offline writes meanwhile answer UNAVAILABLE", async () => {
    const [host, port] = new URL(TEST_NATS_URL.replace(/^nats:/, "http:")).host.split(":");
    const proxy = await TcpProxy.start({ host: host!, port: Number(port || 4222) });
    await offline!.stop();
    await restartOffline(proxy.url);
    try {
      await write([2000n], [2000]);
      await waitFor(async () => (await history()).some(([id]) => id === 2000), { timeoutMs: 20_000 });
      await proxy.cut();
      // The log goes on without the offline service: online writes reach it directly.
      const ids = Array.from({ length: 30 }, (_, i) => 2001 + i);
      for (const n of ids) await write([BigInt(n)], [n]);
      // An offline write waits for history to hold the log's end, which it cannot read now.
      async function* requests() {
        yield { message: { case: "header" as const, value: { project: P, featureGroup: customers } } };
        const table = new arrow.Table({
          customer_id: arrow.vectorFromArray([2100n], new arrow.Int64()),
          spend: arrow.vectorFromArray([1], new arrow.Float64()),
          event_time: arrow.vectorFromArray([Number(T0 / 1000n)], new arrow.TimestampMillisecond()),
        });
        for (const ipc of arrowPayloads(table)) yield { message: { case: "chunk" as const, value: { ipc } } };
      }
      const err = await off.insert(requests()).then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
      expect(err?.code).toBe(Code.Unavailable);
      expect(err?.rawMessage).toMatch(/NATS/);
      await proxy.restore();
      await waitFor(async () => (await history()).filter(([id]) => id > 2000 && id < 2100).length >= ids.length, { timeoutMs: 30_000 });
      const after = (await history()).filter(([id]) => id >= 2000 && id < 2100);
      expect(after).toEqual([[2000, 2000], ...ids.map((n): [number, number] => [n, n])]);
    } finally {
      await offline!.stop();
      await proxy.close();
      await restartOffline();
    }
  }, 90_000);
});

async function* spineless(view: string) {
  yield {
    message: {
      case: "query" as const,
      value: {
        project: P,
        featureView: { name: view, version: 1 },
        untransformed: true,
        spine: { kind: { case: "eventTimeRange" as const, value: { start: timestampFromMs(0), end: timestampFromMs(Date.now()) } } },
      },
    },
  };
}
