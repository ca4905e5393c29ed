import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { join } from "node:path";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { createServiceClient } from "@granary/service-clients";
import { loadMetadataConfig, startMetadataService } from "@granary/metadata";
import { loadOnlineConfig, startOnlineService, type OnlineRunningService } from "@granary/online";
import { MetadataService } from "@granary/proto/metadata";
import { OnlineService, type FeatureVectors } from "@granary/proto/online";
import { ScalarType, ValueStatus, type ColumnData, type ColumnarRows } from "@granary/proto/types";
import type { RunningService } from "@granary/server";
import { createLogger } from "@granary/telemetry";
import { checkHealth, createTestDatabase, scratchDir, testKeys, waitFor, waitForServing, type TestDatabase, failure } from "@granary/testing";
import { TEST_NATS_URL, isolatedLog, natsDescribe } from "@granary/write-log/testing";
import { nowMicros, spendOf as customerSpend, spendRows } from "./support/customer-spend.js";

// The online service with GRANARY_ONLINE_WORKERS=2 (issue 17): a cluster primary owning the one
// LMDB writer, two worker processes serving gRPC on the shared port. Real PostgreSQL, real LMDB
// in a temp dir, gRPC over sockets; connections are dealt round-robin, so several clients (each
// its own HTTP/2 connection) reach both workers.
const describeIfNats = await natsDescribe("the online workers' write-log test");

const keys = testKeys();
const P = "shop";
const dir = scratchDir("online-workers");
const logger = createLogger({ level: "warn", service: "test" });
let db: TestDatabase;
let metadata: RunningService;
let online: OnlineRunningService | undefined;
let md: Client<typeof MetadataService>;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** A client on a connection of its own. */
const connect = (address: string) => createServiceClient(OnlineService, address, { apiKey: keys.adminKey });

async function write(client: Client<typeof OnlineService>, ids: bigint[], amounts: number[], at?: bigint) {
  return client.writeRows({ project: P, featureGroup: { name: "customers", version: 1 }, rows: { case: "columns", value: spendRows(ids, amounts, at) } });
}

const spendOf = (client: Client<typeof OnlineService>, ids: bigint[], minLogSequence = 0n) =>
  customerSpend(client, P, ids, minLogSequence, { timeoutMs: 5000 });

function startWithWorkers(name: string, env: Record<string, string> = {}): Promise<OnlineRunningService> {
  return startOnlineService(
    loadOnlineConfig({
      ...keys.env,
      GRANARY_ONLINE_WORKERS: "2",
      GRANARY_ONLINE_PORT: "0",
      GRANARY_DATA_DIR: dir.path,
      GRANARY_ONLINE_LMDB_PATH: join(dir.path, name),
      GRANARY_ONLINE_REPLICA: name,
      GRANARY_METADATA_ADDRESS: metadata.address,
      ...env,
    }),
    logger,
  );
}

beforeAll(async () => {
  db = await createTestDatabase("online_workers");
  metadata = await startMetadataService(
    loadMetadataConfig({ ...keys.env, GRANARY_METADATA_PORT: "0", GRANARY_DATA_DIR: dir.path, DATABASE_URL: db.url }),
    logger,
  );
  md = createServiceClient(MetadataService, metadata.address, { apiKey: keys.adminKey });
  await md.createProject({ name: P });
  const group = (name: string, columns: [string, ScalarType][], pk: string) =>
    md.createFeatureGroup({
      featureGroup: {
        project: P,
        name,
        version: 1,
        columns: columns.map(([n, scalar]) => ({ name: n, type: { scalar } })),
        primaryKey: [pk],
        eventTime: "event_time",
        onlineEnabled: true,
      },
    });
  await group(
    "customers",
    [
      ["customer_id", ScalarType.INT64],
      ["spend", ScalarType.DOUBLE],
      ["event_time", ScalarType.TIMESTAMP],
    ],
    "customer_id",
  );
  await md.createFeatureView({ featureView: { project: P, name: "spend", version: 1, query: { featureGroup: { name: "customers", version: 1 } } } });
}, 60_000);

afterAll(async () => {
  await online?.stop();
  await metadata?.stop();
  await db?.drop();
  dir.remove();
}, 60_000);

describe("the online service with two worker processes", () => {
  beforeAll(async () => {
    online = await startWithWorkers("online");
    await waitForServing(online.address, 20_000);
    await online.ready?.();
  }, 60_000);

  it("runs two live workers, neither of them this process", () => {
    const pids = online!.workerPids();
    expect(pids).toHaveLength(2);
    expect(new Set(pids).size).toBe(2);
    expect(pids).not.toContain(process.pid);
    for (const pid of pids) expect(alive(pid)).toBe(true);
  });

  it("reports SERVING through the shared port, on every connection", async () => {
    for (let i = 0; i < 4; i++) expect(await checkHealth(online!.address)).toBe("SERVING");
  });

  it("lands writes made through several connections and reads every one back from each connection", async () => {
    const clients = Array.from({ length: 4 }, () => connect(online!.address));
    const results = await Promise.all(clients.map((client, i) => write(client, [BigInt(i)], [i * 10])));
    for (const res of results) expect(res.writtenCount).toBe(1n);
    for (const client of clients) expect(await spendOf(client, [0n, 1n, 2n, 3n])).toEqual([0, 10, 20, 30]);
    // Counts come back from the primary's store: an older event time is ignored.
    const older = await write(clients[1]!, [0n], [-1], nowMicros() - 60_000_000n);
    expect(older.writtenCount).toBe(0n);
    expect(older.ignoredCount).toBe(1n);
  });

  it("shows an acknowledged write to the very next read, on whichever worker it lands", async () => {
    const clients = Array.from({ length: 4 }, () => connect(online!.address));
    for (let i = 0; i < 60; i++) {
      await write(clients[i % 4]!, [100n], [i]);
      expect(await spendOf(clients[(i + 1) % 4]!, [100n])).toEqual([i]);
    }
  });

  it("restarts a worker killed with SIGKILL while the other keeps answering", async () => {
    const [victim, survivor] = online!.workerPids() as [number, number];
    process.kill(victim, "SIGKILL");
    // A new connection each try: one to the dead worker fails, the next reaches a live one.
    await waitFor(async () => (await spendOf(connect(online!.address), [1n]).catch(() => []))[0] === 10, { timeoutMs: 10_000 });
    await waitFor(
      () => {
        const pids = online!.workerPids();
        return pids.length === 2 && !pids.includes(victim) && pids.includes(survivor) && pids.every(alive);
      },
      { timeoutMs: 15_000 },
    );
    expect(alive(victim)).toBe(false);
    // The new worker serves reads and forwarded writes too.
    const clients = Array.from({ length: 4 }, () => connect(online!.address));
    await waitFor(async () => (await Promise.all(clients.map((c) => spendOf(c, [1n]).catch(() => [])))).every((v) => v[0] === 10), { timeoutMs: 15_000 });
    for (const [i, client] of clients.entries()) expect((await write(client, [200n + BigInt(i)], [i])).writtenCount).toBe(1n);
  }, 40_000);

  it("refuses min_log_sequence without a write log, from a worker as from one process", async () => {
    const err = await failure(spendOf(connect(online!.address), [1n], 5n));
    expect(err.code).toBe(Code.FailedPrecondition);
  });

  it("stops every worker on stop(): no process is left behind", async () => {
    const pids = online!.workerPids();
    await online!.stop();
    online = undefined;
    for (const pid of pids) expect(alive(pid)).toBe(false);
  }, 30_000);
});

describeIfNats("online workers following the write log on NATS JetStream", () => {
  const LOG = isolatedLog("onlineworkers");
  let replica: OnlineRunningService | undefined;

  beforeAll(async () => {
    replica = await startWithWorkers("online-log", {
      GRANARY_NATS_URL: TEST_NATS_URL,
      GRANARY_NATS_STREAM: LOG.stream,
      GRANARY_NATS_SUBJECT_PREFIX: LOG.subjectPrefix,
      GRANARY_ONLINE_READ_WAIT_MS: "300",
    });
    await waitForServing(replica.address, 20_000);
  }, 60_000);

  afterAll(async () => {
    const pids = replica?.workerPids() ?? [];
    await replica?.stop();
    for (const pid of pids) expect(alive(pid)).toBe(false);
    await LOG.remove();
  }, 30_000);

  it("acknowledges a WriteRows through a worker with its log sequence, readable through another connection", async () => {
    const [a, b] = [connect(replica!.address), connect(replica!.address)];
    const res = await write(a, [1n, 2n], [11, 22]);
    expect(res.logSequence).toBeGreaterThan(0n);
    expect(res.writtenCount).toBe(2n);
    expect(await spendOf(b, [1n, 2n], res.logSequence)).toEqual([11, 22]);
    expect(await spendOf(a, [1n, 2n])).toEqual([11, 22]);
    const status = await b.getReplicaStatus({});
    expect(status.appliedSequence).toBeGreaterThanOrEqual(res.logSequence);
    expect(status.replica).toBe("online-log");
    const ahead = await failure(spendOf(b, [1n], status.logSequence + 1000n));
    expect(ahead.code).toBe(Code.Unavailable);
  });
});
