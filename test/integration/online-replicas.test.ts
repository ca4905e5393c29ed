import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { randomBytes } from "node:crypto";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, headers as natsHeaders } from "@nats-io/transport-node";
import { createServiceClient } from "@granary/service-clients";
import { loadMetadataConfig, startMetadataService } from "@granary/metadata";
import { loadOnlineConfig, startOnlineService } from "@granary/online";
import { MetadataService } from "@granary/proto/metadata";
import { OnlineService, type FeatureVectors } from "@granary/proto/online";
import { ColumnarRowsSchema, ScalarType, ValueStatus, type ColumnData, type ColumnarRows } from "@granary/proto/types";
import type { RunningService } from "@granary/server";
import { createLogger } from "@granary/telemetry";
import { createTestDatabase, scratchDir, testKeys, waitFor, waitForServing, type TestDatabase, failure } from "@granary/testing";
import { FORMAT, HEADER } from "@granary/write-log";
import { TEST_NATS_URL, isolatedLog, natsDescribe } from "@granary/write-log/testing";
import { f64, i64, nowMicros, spendOf as customerSpend, spendRows, ts } from "./support/customer-spend.js";

// Two online replicas following one write log on the machine's NATS (JetStream on 127.0.0.1:4222):
// CI requires it; elsewhere without NATS this file reports why it did not run. The streams are this
// file's own and are deleted at the end; no test stops the server.
const describeIfNats = await natsDescribe("the online replica tests");

const execFileAsync = promisify(execFile);
const keys = testKeys();
const P = "shop";
const LOG = isolatedLog("online");
const STREAM = LOG.stream;
const PREFIX = LOG.subjectPrefix;
const dir = scratchDir("online-replicas");
const logger = createLogger({ level: "warn", service: "test" });
let db: TestDatabase | undefined;
let metadata: RunningService | undefined;
const replicas: Record<"a" | "b", RunningService | undefined> = { a: undefined, b: undefined };
let md: Client<typeof MetadataService>;
const on = {} as Record<"a" | "b", Client<typeof OnlineService>>;

const rows = spendRows;

const spendOf = (replica: "a" | "b", ids: bigint[], minLogSequence = 0n) => customerSpend(on[replica], P, ids, minLogSequence);

function startReplica(name: "a" | "b", metadataAddress: string): Promise<RunningService> {
  return startOnlineService(
    loadOnlineConfig({
      ...keys.env,
      GRANARY_ONLINE_PORT: "0",
      GRANARY_DATA_DIR: dir.path,
      GRANARY_ONLINE_LMDB_PATH: join(dir.path, `online-${name}`),
      GRANARY_ONLINE_REPLICA: name,
      GRANARY_METADATA_ADDRESS: metadataAddress,
      GRANARY_NATS_URL: TEST_NATS_URL,
      GRANARY_NATS_STREAM: STREAM,
      GRANARY_NATS_SUBJECT_PREFIX: PREFIX,
      GRANARY_ONLINE_READ_WAIT_MS: "300",
    }),
    logger,
  );
}

async function restartReplica(name: "a" | "b"): Promise<void> {
  replicas[name] = await startReplica(name, metadata!.address);
  on[name] = createServiceClient(OnlineService, replicas[name].address, { apiKey: keys.adminKey });
  await waitForServing(replicas[name].address, 15_000);
}

/** Publishes a message straight to NATS, as a producer outside Granary would. */
async function publishRaw(subject: string, data: Uint8Array, values: Record<string, string>): Promise<void> {
  const nc = await connect({ servers: TEST_NATS_URL });
  try {
    const h = natsHeaders();
    for (const [k, v] of Object.entries(values)) h.set(k, v);
    await nc.request(subject, data, { headers: h, timeout: 5000 });
  } finally {
    await nc.close();
  }
}

describeIfNats("online replicas fed by the write log on NATS JetStream", () => {
  beforeAll(async () => {
    db = await createTestDatabase("online_replicas");
    metadata = await startMetadataService(
      loadMetadataConfig({ ...keys.env, GRANARY_METADATA_PORT: "0", GRANARY_DATA_DIR: dir.path, DATABASE_URL: db.url }),
      logger,
    );
    md = createServiceClient(MetadataService, metadata.address, { apiKey: keys.adminKey });
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
    await restartReplica("a");
    await restartReplica("b");
  }, 60_000);

  afterAll(async () => {
    await replicas.a?.stop();
    await replicas.b?.stop();
    await metadata?.stop();
    await db?.drop();
    await LOG.remove();
    dir.remove();
  }, 30_000);

  it("acknowledges a write once the log has it, with its sequence, and every replica serves it", async () => {
    const res = await on.a.writeRows({
      project: P,
      featureGroup: { name: "customers", version: 1 },
      rows: { case: "columns", value: rows([1n, 2n], [10, 20]) },
    });
    expect(res.logSequence).toBeGreaterThan(0n);
    expect(res.writtenCount).toBe(2n);
    // The replica that took the write applied it before answering; the other one reads it with min_log_sequence.
    expect(await spendOf("a", [1n, 2n])).toEqual([10, 20]);
    await waitFor(async () => (await spendOf("b", [1n, 2n], res.logSequence).catch(() => []))[1] === 20, { timeoutMs: 10_000 });
    expect(await spendOf("b", [1n, 2n], res.logSequence)).toEqual([10, 20]);
  });

  it("keeps the newest event time per key on every replica, whichever replica took each write", async () => {
    const t = nowMicros();
    await on.b.writeRows({ project: P, featureGroup: { name: "customers", version: 1 }, rows: { case: "columns", value: rows([3n], [300], t) } });
    const older = await on.a.writeRows({
      project: P,
      featureGroup: { name: "customers", version: 1 },
      rows: { case: "columns", value: rows([3n], [1], t - 1000n) },
    });
    expect(older.ignoredCount).toBe(1n);
    for (const r of ["a", "b"] as const) expect(await spendOf(r, [3n], older.logSequence)).toEqual([300]);
  });

  it("applies deletes as tombstones on every replica", async () => {
    await on.a.writeRows({ project: P, featureGroup: { name: "customers", version: 1 }, rows: { case: "columns", value: rows([4n], [4]) } });
    const del = await on.b.deleteRows({
      project: P,
      featureGroup: { name: "customers", version: 1 },
      keys: { rowCount: 1, columns: [{ name: "customer_id", data: i64([4n]) }] } as ColumnarRows,
    });
    expect(del.deletedCount).toBe(1n);
    expect(del.logSequence).toBeGreaterThan(0n);
    for (const r of ["a", "b"] as const) expect(await spendOf(r, [4n], del.logSequence)).toEqual([undefined]);
  });

  it("answers a read ahead of what a replica has applied with UNAVAILABLE after a bounded wait", async () => {
    const status = await on.a.getReplicaStatus({});
    const started = Date.now();
    const err = await failure(spendOf("a", [1n], status.logSequence + 1000n));
    expect(err.code).toBe(Code.Unavailable);
    expect(err.rawMessage).toMatch(/applied the write log up to sequence \d+, behind the \d+ asked for/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("refuses a producer's bad messages to the dead letters with the reason and goes on applying", async () => {
    const subject = `${PREFIX}.${P}.customers.v1`;
    await publishRaw(subject, new Uint8Array([0xff, 0xff, 0xff]), { [HEADER.format]: FORMAT, [HEADER.kind]: "upsert", [HEADER.groupVersion]: "1" });
    // Decodable, but the rows break the group's schema (a column it does not have).
    const good = rows([5n], [5]);
    const wrong = toBinary(
      ColumnarRowsSchema,
      create(ColumnarRowsSchema, { rowCount: 1, columns: [...good.columns, { name: "nope", data: f64([1]) }] } as never),
    );
    await publishRaw(subject, wrong, { [HEADER.format]: FORMAT, [HEADER.kind]: "upsert", [HEADER.groupVersion]: "1" });
    const after = await on.a.writeRows({ project: P, featureGroup: { name: "customers", version: 1 }, rows: { case: "columns", value: rows([6n], [6]) } });
    for (const r of ["a", "b"] as const) expect(await spendOf(r, [5n, 6n], after.logSequence)).toEqual([undefined, 6]);
    const { deadLetters } = await on.b.listDeadLetters({ project: P, limit: 10 });
    const reasons = deadLetters.map((d) => d.reason).join("\n");
    expect(reasons).toMatch(/payload is not a granary\.types\.v1\.ColumnarRows protobuf/);
    expect(reasons).toMatch(/column "nope" is not in feature group "customers" version 1/);
    // Both replicas refused the same messages for the same reasons: filed once each.
    expect(deadLetters).toHaveLength(2);
    // A batch of an offline-only group is the offline service's: the replicas pass over it without a dead letter.
    await md.createFeatureGroup({
      featureGroup: {
        project: P,
        name: "history_only",
        version: 1,
        columns: [
          { name: "customer_id", type: { scalar: ScalarType.INT64 } },
          { name: "spend", type: { scalar: ScalarType.DOUBLE } },
          { name: "event_time", type: { scalar: ScalarType.TIMESTAMP } },
        ],
        primaryKey: ["customer_id"],
        eventTime: "event_time",
      },
    });
    await waitFor(async () => {
      await publishRaw(`${PREFIX}.${P}.history_only.v1`, toBinary(ColumnarRowsSchema, create(ColumnarRowsSchema, rows([9n], [9]) as never)), {
        [HEADER.format]: FORMAT,
        [HEADER.kind]: "upsert",
        [HEADER.groupVersion]: "1",
      });
      const next = await on.a.writeRows({ project: P, featureGroup: { name: "customers", version: 1 }, rows: { case: "columns", value: rows([10n], [10]) } });
      for (const r of ["a", "b"] as const) await spendOf(r, [10n], next.logSequence);
      return (await on.a.getReplicaStatus({})).appliedSequence >= next.logSequence;
    });
    expect((await on.a.listDeadLetters({ project: P, limit: 10 })).deadLetters).toHaveLength(2);
    expect(deadLetters.every((d) => d.subject === subject && d.originalSequence > 0n)).toBe(true);
  });

  it("splits a write larger than a log message into several, in row order, every row applied on every replica", async () => {
    await md.createFeatureGroup({
      featureGroup: {
        project: P,
        name: "notes",
        version: 1,
        columns: [
          { name: "customer_id", type: { scalar: ScalarType.INT64 } },
          { name: "note", type: { scalar: ScalarType.STRING } },
          { name: "event_time", type: { scalar: ScalarType.TIMESTAMP } },
        ],
        primaryKey: ["customer_id"],
        eventTime: "event_time",
        onlineEnabled: true,
      },
    });
    await md.createFeatureView({ featureView: { project: P, name: "notes", version: 1, query: { featureGroup: { name: "notes", version: 1 } } } });
    const n = 5000;
    const ids = Array.from({ length: n }, (_, i) => BigInt(i));
    const before = await on.a.getReplicaStatus({});
    // 5,000 notes of 300 characters: about 1.5 MB, over the 1 MiB a message may hold.
    const notes = ids.map((i) => `${i}:`.padEnd(300, "n"));
    const res = await waitFor(
      () =>
        on.a.writeRows({
          project: P,
          featureGroup: { name: "notes", version: 1 },
          rows: {
            case: "columns",
            value: {
              rowCount: n,
              columns: [
                { name: "customer_id", data: i64(ids) },
                { name: "note", data: { values: { case: "strings", value: { values: notes } } } },
                { name: "event_time", data: ts(ids.map(() => nowMicros())) },
              ],
            } as unknown as ColumnarRows,
          },
        }),
      { timeoutMs: 10_000 },
    );
    expect(res.writtenCount).toBe(BigInt(n));
    expect(res.logSequence - before.logSequence).toBeGreaterThanOrEqual(2n);
    for (const r of ["a", "b"] as const) {
      const out = await on[r].getFeatureVectors({
        project: P,
        featureView: { name: "notes", version: 1 },
        entities: { rowCount: 3, servingKeys: [{ name: "customer_id", data: i64([0n, 2500n, 4999n]) }] },
        options: { minLogSequence: res.logSequence },
      });
      const column = (out.vectors as FeatureVectors).columns.find((c) => c.name === "note")!;
      expect((column.values?.values.value as { values: string[] }).values).toEqual([notes[0], notes[2500], notes[4999]]);
    }
  });

  it("bootstraps a new replica from a peer's LMDB snapshot, then replays the log from the snapshot's sequence", async () => {
    const first = await on.a.writeRows({ project: P, featureGroup: { name: "customers", version: 1 }, rows: { case: "columns", value: rows([700n], [7]) } });
    const snapshot = join(dir.path, "snapshot-of-a");
    // deploy/lmdb-backup.mjs: a consistent copy of a running replica's store, its applied sequence included.
    await execFileAsync(process.execPath, [fileURLToPath(new URL("../../deploy/lmdb-backup.mjs", import.meta.url)), join(dir.path, "online-a"), snapshot]);
    const after = await on.a.writeRows({ project: P, featureGroup: { name: "customers", version: 1 }, rows: { case: "columns", value: rows([701n], [8]) } });
    // Retention has dropped everything up to the snapshot: only a replica starting from the
    // snapshot's sequence can catch up (one replaying from the start would stop with DATA_LOSS).
    const nc = await connect({ servers: TEST_NATS_URL });
    await (await jetstreamManager(nc)).streams.purge(STREAM, { seq: Number(first.logSequence) + 1 });
    await nc.close();
    const c = await startOnlineService(
      loadOnlineConfig({
        ...keys.env,
        GRANARY_ONLINE_PORT: "0",
        GRANARY_DATA_DIR: dir.path,
        GRANARY_ONLINE_LMDB_PATH: snapshot,
        GRANARY_ONLINE_REPLICA: "c",
        GRANARY_METADATA_ADDRESS: metadata!.address,
        GRANARY_NATS_URL: TEST_NATS_URL,
        GRANARY_NATS_STREAM: STREAM,
        GRANARY_NATS_SUBJECT_PREFIX: PREFIX,
      }),
      logger,
    );
    try {
      const client = createServiceClient(OnlineService, c.address, { apiKey: keys.adminKey });
      await waitForServing(c.address, 15_000);
      await waitFor(async () => (await client.getReplicaStatus({})).appliedSequence >= after.logSequence, { timeoutMs: 10_000 });
      const res = await client.getFeatureVectors({
        project: P,
        featureView: { name: "spend", version: 1 },
        entities: { rowCount: 3, servingKeys: [{ name: "customer_id", data: i64([1n, 700n, 701n]) }] },
      });
      const column = (res.vectors as FeatureVectors).columns.find((x) => x.name === "spend")!;
      expect((column.values?.values.value as { values: number[] }).values).toEqual([10, 7, 8]);
      expect(first.logSequence).toBeLessThan(after.logSequence);
    } finally {
      await c.stop();
    }
  });

  it("catches a restarted replica up from its own applied sequence, each batch applied once", async () => {
    await replicas.b!.stop();
    replicas.b = undefined;
    let last = 0n;
    for (let i = 0; i < 20; i++) {
      const res = await on.a.writeRows({
        project: P,
        featureGroup: { name: "customers", version: 1 },
        rows: { case: "columns", value: rows([100n + BigInt(i)], [i]) },
      });
      last = res.logSequence;
    }
    await restartReplica("b");
    const ids = Array.from({ length: 20 }, (_, i) => 100n + BigInt(i));
    expect(await spendOf("b", ids, last).catch(async () => spendOf("b", ids, last))).toEqual(ids.map((_, i) => i));
    await waitFor(async () => (await on.b.getReplicaStatus({})).lag === 0n, { timeoutMs: 10_000 });
    const status = await on.b.getReplicaStatus({});
    expect(status).toMatchObject({ replica: "b", log: "jetstream", withinBound: true });
    expect(status.appliedSequence).toBeGreaterThanOrEqual(last);
  }, 60_000);
});
