import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { createServiceClient } from "@granary/service-clients";
import { loadMetadataConfig, startMetadataService } from "@granary/metadata";
import { loadOnlineConfig, startOnlineService } from "@granary/online";
import { findFreePort } from "@granary/postgres";
import { MetadataService } from "@granary/proto/metadata";
import { OnlineService } from "@granary/proto/online";
import { ScalarType, ValueStatus, type ColumnData, type ColumnarRows } from "@granary/proto/types";
import type { RunningService } from "@granary/server";
import { createLogger } from "@granary/telemetry";
import { checkHealth, createTestDatabase, scratchDir, startServiceProcess, testKeys, waitFor, waitForServing, type TestDatabase } from "@granary/testing";
import { TEST_NATS_URL, TcpProxy, deleteStreams, isolatedLog, natsDescribe } from "@granary/write-log/testing";

// Online replicas on the machine's NATS (required under CI; 'not run' without NATS): a replica in
// its own process killed with SIGKILL five times while another keeps taking writes, and a replica
// whose line to NATS is cut by a TCP proxy this test starts (the machine's NATS is never stopped).
// Every acknowledged row must be on every replica afterwards.
const describeIfNats = await natsDescribe("the online replica crash tests");

const keys = testKeys();
const LOG = isolatedLog("crash");
const STREAM = LOG.stream;
const PREFIX = LOG.subjectPrefix;
const dir = scratchDir("online-replicas-crash");
const logger = createLogger({ level: "warn", service: "test" });
let db: TestDatabase | undefined;
let metadata: RunningService | undefined;
let writer: RunningService | undefined;
let md: Client<typeof MetadataService>;
let a: Client<typeof OnlineService>;

const i64 = (values: bigint[]): ColumnData => ({ values: { case: "int64s", value: { values } } }) as ColumnData;
const batch = (ids: bigint[]) =>
  ({
    rowCount: ids.length,
    columns: [
      { name: "id", data: i64(ids) },
      { name: "value", data: i64(ids.map((i) => i * 3n)) },
    ],
  }) as unknown as ColumnarRows;

function logEnv(name: string, natsUrl = TEST_NATS_URL, stream = STREAM): Record<string, string> {
  return {
    ...keys.env,
    GRANARY_DATA_DIR: dir.path,
    GRANARY_ONLINE_LMDB_PATH: join(dir.path, `online-${name}`),
    GRANARY_ONLINE_REPLICA: name,
    GRANARY_METADATA_ADDRESS: metadata!.address,
    GRANARY_NATS_URL: natsUrl,
    GRANARY_NATS_STREAM: stream,
    GRANARY_NATS_SUBJECT_PREFIX: stream === STREAM ? PREFIX : `${PREFIX}-other`,
    GRANARY_LOG_LEVEL: "warn",
  };
}

/** Every id present on the replica at `address` with its value, once it has applied up to `sequence`. */
async function expectAll(client: Client<typeof OnlineService>, ids: bigint[], sequence: bigint): Promise<void> {
  await waitFor(async () => (await client.getReplicaStatus({})).appliedSequence >= sequence, { timeoutMs: 30_000, what: `replica applied up to ${sequence}` });
  for (let start = 0; start < ids.length; start += 1000) {
    const part = ids.slice(start, start + 1000);
    const { vectors } = await client.getFeatureVectors({
      project: "crash",
      featureView: { name: "events", version: 1 },
      entities: { rowCount: part.length, servingKeys: [{ name: "id", data: i64(part) }] },
    });
    const value = vectors?.columns.find((c) => c.name === "value");
    expect(part.filter((_, i) => value?.statuses[i] !== ValueStatus.PRESENT)).toEqual([]);
    expect((value?.values?.values.value as { values: bigint[] }).values).toEqual(part.map((i) => i * 3n));
  }
}

describeIfNats("online replicas on the write log, through crashes and NATS outages", () => {
  beforeAll(async () => {
    db = await createTestDatabase("online_replicas_crash");
    metadata = await startMetadataService(
      loadMetadataConfig({ ...keys.env, GRANARY_METADATA_PORT: "0", GRANARY_DATA_DIR: dir.path, DATABASE_URL: db.url }),
      logger,
    );
    md = createServiceClient(MetadataService, metadata.address, { apiKey: keys.adminKey });
    await md.createProject({ name: "crash" });
    await md.createFeatureGroup({
      featureGroup: {
        project: "crash",
        name: "events",
        version: 1,
        columns: [
          { name: "id", type: { scalar: ScalarType.INT64 } },
          { name: "value", type: { scalar: ScalarType.INT64 } },
        ],
        primaryKey: ["id"],
        onlineEnabled: true,
      },
    });
    await md.createFeatureView({ featureView: { project: "crash", name: "events", version: 1, query: { featureGroup: { name: "events", version: 1 } } } });
    writer = await startOnlineService(loadOnlineConfig({ ...logEnv("a"), GRANARY_ONLINE_PORT: "0" }), logger);
    a = createServiceClient(OnlineService, writer.address, { apiKey: keys.adminKey });
    await waitForServing(writer.address, 15_000);
  }, 60_000);

  afterAll(async () => {
    await writer?.stop();
    await metadata?.stop();
    await db?.drop();
    await LOG.remove();
    dir.remove();
  }, 30_000);

  it("a replica killed with SIGKILL five times mid-stream ends with every acknowledged row", async () => {
    const port = await findFreePort();
    const acknowledged: bigint[] = [];
    let last = 0n;
    let next = 0n;
    const startB = async () => {
      const proc = startServiceProcess("services/online/src/main.ts", { ...logEnv("b"), GRANARY_ONLINE_PORT: String(port) });
      await waitForServing(`127.0.0.1:${port}`, 60_000).catch((err: unknown) => {
        throw new Error(`replica b did not start: ${String(err)}\n${proc.output()}`);
      });
      return proc;
    };
    for (let round = 0; round < 5; round++) {
      const proc = await startB();
      // Writes go to replica a the whole time; b applies them from the log until it is killed.
      const killAt = Date.now() + 300 + round * 100;
      while (Date.now() < killAt) {
        const ids = Array.from({ length: 200 }, () => next++);
        const res = await a.writeRows({ project: "crash", featureGroup: { name: "events", version: 1 }, rows: { case: "columns", value: batch(ids) } });
        acknowledged.push(...ids);
        last = res.logSequence;
      }
      proc.child.kill("SIGKILL");
      await proc.exited();
    }
    // Written while b is down: it must catch up on these too.
    const ids = Array.from({ length: 500 }, () => next++);
    last = (await a.writeRows({ project: "crash", featureGroup: { name: "events", version: 1 }, rows: { case: "columns", value: batch(ids) } })).logSequence;
    acknowledged.push(...ids);
    const proc = await startB();
    try {
      const b = createServiceClient(OnlineService, `127.0.0.1:${port}`, { apiKey: keys.adminKey });
      await expectAll(b, acknowledged, last);
      await expectAll(a, acknowledged, last);
      expect((await b.getReplicaStatus({})).appliedSequence).toBe((await a.getReplicaStatus({})).appliedSequence);
    } finally {
      await proc.stop();
    }
  }, 240_000);

  it("a replica whose log was deleted and made again refuses to follow the new one and stays NOT_SERVING", async () => {
    const other = `${STREAM}_OTHER`;
    const env = { ...logEnv("d", TEST_NATS_URL, other), GRANARY_ONLINE_PORT: "0" };
    let d = await startOnlineService(loadOnlineConfig(env), logger);
    try {
      let client = createServiceClient(OnlineService, d.address, { apiKey: keys.adminKey });
      await waitForServing(d.address, 15_000);
      const res = await client.writeRows({
        project: "crash",
        featureGroup: { name: "events", version: 1 },
        rows: { case: "columns", value: batch([5_000_000n]) },
      });
      expect(res.logSequence).toBe(1n);
      await d.stop();
      // The operator deletes the stream (or NATS's volume) and keeps the replica's LMDB.
      await deleteStreams(other);
      d = await startOnlineService(loadOnlineConfig(env), logger);
      client = createServiceClient(OnlineService, d.address, { apiKey: keys.adminKey });
      await waitFor(async () => (await client.getReplicaStatus({})).replica === "d", { timeoutMs: 10_000 });
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect((await client.getReplicaStatus({})).withinBound).toBe(false);
      expect(await checkHealth(d.address, "", 2000)).toBe("NOT_SERVING");
    } finally {
      await d.stop();
      await deleteStreams(other, `${other}_DEAD`);
    }
  }, 60_000);

  it("a replica cut off from NATS refuses writes fast with UNAVAILABLE, keeps serving, and catches up after", async () => {
    const [host, port] = new URL(TEST_NATS_URL.replace(/^nats:/, "http:")).host.split(":");
    const proxy = await TcpProxy.start({ host: host!, port: Number(port || 4222) });
    const c = await startOnlineService(loadOnlineConfig({ ...logEnv("c", proxy.url), GRANARY_ONLINE_PORT: "0" }), logger);
    try {
      const client = createServiceClient(OnlineService, c.address, { apiKey: keys.adminKey });
      await waitForServing(c.address, 15_000);
      const before = await a.writeRows({
        project: "crash",
        featureGroup: { name: "events", version: 1 },
        rows: { case: "columns", value: batch([1_000_000n]) },
      });
      await expectAll(client, [1_000_000n], before.logSequence);

      await proxy.cut();
      const started = Date.now();
      const err = await client
        .writeRows({ project: "crash", featureGroup: { name: "events", version: 1 }, rows: { case: "columns", value: batch([1_000_001n]) } })
        .then(
          () => undefined,
          (e: unknown) => ConnectError.from(e),
        );
      expect(err?.code).toBe(Code.Unavailable);
      expect(err?.rawMessage).toMatch(/NATS/);
      expect(Date.now() - started).toBeLessThan(10_000);
      // Reads keep answering from what the replica has applied.
      await expectAll(client, [1_000_000n], before.logSequence);
      // The log goes on without it.
      const during = Array.from({ length: 300 }, (_, i) => 2_000_000n + BigInt(i));
      const res = await a.writeRows({ project: "crash", featureGroup: { name: "events", version: 1 }, rows: { case: "columns", value: batch(during) } });

      await proxy.restore();
      await expectAll(client, during, res.logSequence);
    } finally {
      await c.stop();
      await proxy.close();
    }
  }, 120_000);
});
