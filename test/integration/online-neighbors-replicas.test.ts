import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Client } from "@connectrpc/connect";
import { createServiceClient } from "@granary/service-clients";
import { loadMetadataConfig, startMetadataService } from "@granary/metadata";
import { loadOnlineConfig, startOnlineService } from "@granary/online";
import { DistanceMetric, MetadataService } from "@granary/proto/metadata";
import { OnlineService } from "@granary/proto/online";
import { ScalarType, type ColumnData } from "@granary/proto/types";
import type { RunningService } from "@granary/server";
import { createLogger } from "@granary/telemetry";
import { createTestDatabase, scratchDir, testKeys, waitForServing, type TestDatabase } from "@granary/testing";
import { TEST_NATS_URL, isolatedLog, natsDescribe } from "@granary/write-log/testing";

// Two online replicas following one write log on the machine's NATS: each keeps its own index from
// what it applies, whichever replica took a write; a replica stopped and started again loads its
// saved index and catches up from the log.
const describeIfNats = await natsDescribe("the online replica nearest-neighbour tests");

const keys = testKeys();
const P = "shop";
const LOG = isolatedLog("neighbors");
const dir = scratchDir("online-neighbors-replicas");
const logger = createLogger({ level: "warn", service: "test" });
let db: TestDatabase | undefined;
let metadata: RunningService | undefined;
let groupId = 0n;
const replicas: Record<"a" | "b", RunningService | undefined> = { a: undefined, b: undefined };
const on = {} as Record<"a" | "b", Client<typeof OnlineService>>;

const i64 = (values: bigint[]): ColumnData => ({ values: { case: "int64s", value: { values } } }) as ColumnData;
const embeddings = (vectors: number[][]): ColumnData =>
  ({
    values: {
      case: "lists",
      value: { offsets: vectors.map((_, i) => i * 2).concat(vectors.length * 2), items: { values: { case: "floats", value: { values: vectors.flat() } } } },
    },
  }) as ColumnData;

async function startReplica(name: "a" | "b"): Promise<void> {
  replicas[name] = await startOnlineService(
    loadOnlineConfig({
      ...keys.env,
      GRANARY_ONLINE_PORT: "0",
      GRANARY_DATA_DIR: dir.path,
      GRANARY_ONLINE_LMDB_PATH: join(dir.path, `online-${name}`),
      GRANARY_ONLINE_REPLICA: name,
      GRANARY_METADATA_ADDRESS: metadata!.address,
      GRANARY_NATS_URL: TEST_NATS_URL,
      GRANARY_NATS_STREAM: LOG.stream,
      GRANARY_NATS_SUBJECT_PREFIX: LOG.subjectPrefix,
      GRANARY_ONLINE_ANN_EXACT_BELOW: "0",
    }),
    logger,
  );
  on[name] = createServiceClient(OnlineService, replicas[name].address, { apiKey: keys.adminKey });
  await waitForServing(replicas[name].address, 15_000);
}

const search = (replica: "a" | "b", query: number[], k: number, minLogSequence: bigint, exact = false) =>
  on[replica].findNeighbors({
    project: P,
    target: { case: "featureGroup", value: { name: "points", version: 1 } },
    column: "emb",
    query,
    k,
    exact,
    options: { minLogSequence },
  });
const idsOf = (res: Awaited<ReturnType<typeof search>>) => (res.keys[0]?.data?.values.value as { values: bigint[] }).values.map(Number);

describeIfNats("nearest-neighbour indexes on every replica", () => {
  beforeAll(async () => {
    db = await createTestDatabase("online_neighbors_replicas");
    metadata = await startMetadataService(
      loadMetadataConfig({ ...keys.env, GRANARY_METADATA_PORT: "0", GRANARY_DATA_DIR: dir.path, DATABASE_URL: db.url }),
      logger,
    );
    const md: Client<typeof MetadataService> = createServiceClient(MetadataService, metadata.address, { apiKey: keys.adminKey });
    await md.createProject({ name: P });
    const { featureGroup } = await md.createFeatureGroup({
      featureGroup: {
        project: P,
        name: "points",
        version: 1,
        columns: [
          { name: "id", type: { scalar: ScalarType.INT64 } },
          { name: "emb", type: { scalar: ScalarType.FLOAT, list: true, dimension: 2 } },
        ],
        primaryKey: ["id"],
        onlineEnabled: true,
        embeddingIndexes: [{ column: "emb", metric: DistanceMetric.L2 }],
      },
    });
    groupId = featureGroup!.id;
    await startReplica("a");
    await startReplica("b");
  }, 60_000);

  afterAll(async () => {
    await replicas.a?.stop();
    await replicas.b?.stop();
    await metadata?.stop();
    await db?.drop();
    await LOG.remove();
    dir.remove();
  }, 30_000);

  it("indexes on each replica what it applies from the log, whichever replica took the write", async () => {
    // A 10 × 10 grid written through replica a, then a point moved and one deleted through replica b.
    const ids = Array.from({ length: 100 }, (_, i) => BigInt(i));
    const grid = ids.map((i) => [Number(i % 10n), Number(i / 10n)]);
    await on.a.writeRows({
      project: P,
      featureGroup: { name: "points", version: 1 },
      rows: {
        case: "columns",
        value: {
          rowCount: 100,
          columns: [
            { name: "id", data: i64(ids) },
            { name: "emb", data: embeddings(grid) },
          ],
        },
      },
    });
    const moved = await on.b.writeRows({
      project: P,
      featureGroup: { name: "points", version: 1 },
      rows: {
        case: "columns",
        value: {
          rowCount: 1,
          columns: [
            { name: "id", data: i64([99n]) },
            { name: "emb", data: embeddings([[4.4, 4.4]]) },
          ],
        },
      },
    });
    const deleted = await on.b.deleteRows({
      project: P,
      featureGroup: { name: "points", version: 1 },
      keys: { rowCount: 1, columns: [{ name: "id", data: i64([44n]) }] },
    });
    expect(deleted.logSequence).toBeGreaterThan(moved.logSequence);
    for (const replica of ["a", "b"] as const) {
      const near = await search(replica, [4.6, 4.3], 4, deleted.logSequence);
      // 99 moved next to the query; 44 (the nearest grid point) deleted.
      expect(idsOf(near)).toEqual([99, 45, 55, 54]);
      expect(idsOf(await search(replica, [4.6, 4.3], 4, deleted.logSequence, true))).toEqual([99, 45, 55, 54]);
      expect(near.distances[0]).toBeCloseTo(Math.hypot(0.2, 0.1), 5);
    }
  });

  it("saves each replica's index beside its own LMDB environment and loads it after a restart, catching up from the log", async () => {
    await replicas.b!.stop();
    replicas.b = undefined;
    const file = join(dir.path, "online-b", "ann", `${groupId}-emb.usearch`);
    expect(existsSync(file)).toBe(true);
    // Written while b is down: b applies it from the log after it starts.
    const res = await on.a.writeRows({
      project: P,
      featureGroup: { name: "points", version: 1 },
      rows: {
        case: "columns",
        value: {
          rowCount: 1,
          columns: [
            { name: "id", data: i64([500n]) },
            { name: "emb", data: embeddings([[20, 20]]) },
          ],
        },
      },
    });
    await startReplica("b");
    const near = await search("b", [19, 19], 1, res.logSequence);
    expect(idsOf(near)).toEqual([500]);
    expect(idsOf(await search("b", [4.5, 4.5], 1, res.logSequence))).toEqual([99]);
  });
});
