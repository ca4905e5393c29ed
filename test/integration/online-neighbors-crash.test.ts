import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { join } from "node:path";
import type { Client } from "@connectrpc/connect";
import { createServiceClient } from "@granary/service-clients";
import { loadMetadataConfig, startMetadataService } from "@granary/metadata";
import { findFreePort } from "@granary/postgres";
import { DistanceMetric, MetadataService } from "@granary/proto/metadata";
import { Durability, OnlineService } from "@granary/proto/online";
import { ScalarType, type ColumnData } from "@granary/proto/types";
import type { RunningService } from "@granary/server";
import { createLogger } from "@granary/telemetry";
import { createTestDatabase, scratchDir, startServiceProcess, testKeys, waitForServing, type TestDatabase } from "@granary/testing";

// The online service (primary and workers, as containers run it) killed with SIGKILL in the middle
// of a stream of acknowledged upserts and deletes of an indexed group, three times, its index saved
// every 200 ms meanwhile: after a restart the index must hold exactly the committed rows.
const keys = testKeys();
const dir = scratchDir("online-neighbors-crash");
const DIM = 8;
const IDS = 400;
let db: TestDatabase;
let metadata: RunningService;
let md: Client<typeof MetadataService>;

const i64 = (values: bigint[]): ColumnData => ({ values: { case: "int64s", value: { values } } }) as ColumnData;
const embeddings = (vectors: number[][]): ColumnData =>
  ({
    values: {
      case: "lists",
      value: { offsets: vectors.map((_, i) => i * DIM).concat(vectors.length * DIM), items: { values: { case: "floats", value: { values: vectors.flat() } } } },
    },
  }) as ColumnData;

let seed = 11;
function rand(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const vec = () => Array.from({ length: DIM }, () => Math.fround(rand() * 2 - 1));

beforeAll(async () => {
  db = await createTestDatabase("online_neighbors_crash");
  metadata = await startMetadataService(
    loadMetadataConfig({ ...keys.env, GRANARY_METADATA_PORT: "0", GRANARY_DATA_DIR: dir.path, DATABASE_URL: db.url }),
    createLogger({ level: "warn", service: "test" }),
  );
  md = createServiceClient(MetadataService, metadata.address, { apiKey: keys.adminKey });
  await md.createProject({ name: "crash" });
  await md.createFeatureGroup({
    featureGroup: {
      project: "crash",
      name: "items",
      version: 1,
      columns: [
        { name: "id", type: { scalar: ScalarType.INT64 } },
        { name: "emb", type: { scalar: ScalarType.FLOAT, list: true, dimension: DIM } },
      ],
      primaryKey: ["id"],
      onlineEnabled: true,
      embeddingIndexes: [{ column: "emb", metric: DistanceMetric.L2 }],
    },
  });
}, 60_000);

afterAll(async () => {
  await metadata?.stop();
  await db?.drop();
  dir.remove();
}, 30_000);

async function startOnline(port: number) {
  const proc = startServiceProcess("services/online/src/main.ts", {
    ...keys.env,
    GRANARY_ONLINE_PORT: String(port),
    GRANARY_ONLINE_WORKERS: "2",
    GRANARY_DATA_DIR: join(dir.path, "online-data"),
    GRANARY_METADATA_ADDRESS: metadata.address,
    GRANARY_ONLINE_ANN_EXACT_BELOW: "0",
    GRANARY_ONLINE_ANN_SAVE_INTERVAL_MS: "200",
    GRANARY_LOG_LEVEL: "warn",
  });
  await waitForServing(`127.0.0.1:${port}`, 60_000).catch((err: unknown) => {
    throw new Error(`online did not start: ${String(err)}\n${proc.output()}`);
  });
  return proc;
}

describe("nearest-neighbour index durability", () => {
  it("holds every acknowledged row with its latest embedding, and no deleted one, after SIGKILLs", async () => {
    const port = await findFreePort();
    /** The acknowledged state: id → latest embedding, or null once deleted. */
    const state = new Map<number, number[] | null>();
    /** Ids of a call the kill interrupted: either outcome is right, so they are not checked. */
    const unsure = new Set<number>();
    for (let round = 0; round < 3; round++) {
      const proc = await startOnline(port);
      const client = createServiceClient(OnlineService, `127.0.0.1:${port}`, { apiKey: keys.adminKey });
      let killed = false;
      let killer: NodeJS.Timeout | undefined;
      const started = Date.now();
      const arm = () =>
        (killer ??= setTimeout(
          () => {
            killed = true;
            proc.child.kill("SIGKILL");
          },
          500 + round * 150,
        ));
      for (let batch = 0; !killed; batch++) {
        const ids = [...new Set(Array.from({ length: 20 }, () => Math.floor(rand() * IDS)))];
        const remove = batch % 4 === 3;
        const vectors = ids.map(() => vec());
        try {
          if (remove) {
            await client.deleteRows({
              project: "crash",
              featureGroup: { name: "items", version: 1 },
              durability: Durability.FLUSHED,
              keys: { rowCount: ids.length, columns: [{ name: "id", data: i64(ids.map(BigInt)) }] },
            });
            ids.forEach((id) => state.set(id, null));
          } else {
            await client.writeRows({
              project: "crash",
              featureGroup: { name: "items", version: 1 },
              durability: Durability.FLUSHED,
              rows: {
                case: "columns",
                value: {
                  rowCount: ids.length,
                  columns: [
                    { name: "id", data: i64(ids.map(BigInt)) },
                    { name: "emb", data: embeddings(vectors) },
                  ],
                },
              },
            });
            ids.forEach((id, i) => state.set(id, vectors[i]!));
          }
          ids.forEach((id) => unsure.delete(id));
          arm();
        } catch {
          ids.forEach((id) => unsure.add(id));
          if (killer === undefined && Date.now() - started > 30_000) throw new Error(`no write of round ${round} was acknowledged in 30 s:\n${proc.output()}`);
        }
      }
      clearTimeout(killer);
      await proc.exited();
    }

    const proc = await startOnline(port);
    try {
      const client = createServiceClient(OnlineService, `127.0.0.1:${port}`, { apiKey: keys.adminKey });
      const search = (query: number[], k: number, exact: boolean) =>
        client.findNeighbors({ project: "crash", target: { case: "featureGroup", value: { name: "items", version: 1 } }, column: "emb", query, k, exact });
      const idsOf = (res: Awaited<ReturnType<typeof search>>) => (res.keys[0]?.data?.values.value as { values: bigint[] }).values.map(Number);
      const live = [...state].filter(([id, v]) => v !== null && !unsure.has(id));
      const deleted = [...state].filter(([id, v]) => v === null && !unsure.has(id));
      expect(live.length).toBeGreaterThan(50);
      expect(deleted.length).toBeGreaterThan(5);
      // Each live row is found through the index by its latest embedding, at distance 0.
      const wrong: number[] = [];
      for (const [id, v] of live) {
        const res = await search(v!, 1, false);
        if (idsOf(res)[0] !== id || res.distances[0]! > 1e-6) wrong.push(id);
      }
      expect(wrong).toEqual([]);
      // No deleted row comes back, and the index answers as a scan of the rows does.
      const deletedIds = new Set(deleted.map(([id]) => id));
      for (let q = 0; q < 30; q++) {
        const query = vec();
        const [ann, exact] = await Promise.all([search(query, 10, false), search(query, 10, true)]);
        expect(idsOf(ann)).toEqual(idsOf(exact));
        expect(idsOf(ann).filter((id) => deletedIds.has(id))).toEqual([]);
      }
    } finally {
      await proc.stop();
    }
  }, 240_000);
});
