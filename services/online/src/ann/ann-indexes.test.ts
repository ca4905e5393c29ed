import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { DistanceMetric, EmbeddingIndexSchema, FeatureGroupSchema, FilterOperator, type FeatureGroup } from "@granary/proto/metadata";
import { ColumnSchema, DataTypeSchema, ScalarType } from "@granary/proto/types";
import { createLogger } from "@granary/telemetry";
import { KeyEncoder } from "../store/key-codec.js";
import { LmdbOnlineStore } from "../store/lmdb-online-store.js";
import { RowEncoder } from "../store/row-codec.js";
import { AnnIndexes } from "./ann-indexes.js";
import { searchGroup, type GroupSearch } from "./neighbor-search.js";
import { compileRowFilter } from "./row-filter.js";

const DIM = 8;
const log = createLogger({ level: "silent", service: "test" });

function itemsGroup(metric = DistanceMetric.COSINE, id = 7n): FeatureGroup {
  return create(FeatureGroupSchema, {
    id,
    project: "p",
    name: "items",
    version: 1,
    columns: [
      { name: "item_id", type: create(DataTypeSchema, { scalar: ScalarType.INT64 }) },
      { name: "emb", type: create(DataTypeSchema, { scalar: ScalarType.FLOAT, list: true, dimension: DIM }) },
      { name: "category", type: create(DataTypeSchema, { scalar: ScalarType.STRING }) },
      { name: "event_time", type: create(DataTypeSchema, { scalar: ScalarType.TIMESTAMP }) },
    ],
    primaryKey: ["item_id"],
    eventTime: "event_time",
    onlineEnabled: true,
    embeddingIndexes: [{ column: "emb", metric }],
  });
}

/** A seeded generator (mulberry32), so a failure replays. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const keyOf = (group: FeatureGroup, id: number) => {
  const keys = new KeyEncoder();
  keys.begin(group.id);
  keys.add(group.columns[0]!.type!, BigInt(id));
  return keys.finish();
};

let dir: string;
let store: LmdbOnlineStore;
let rand: () => number;
let clock: bigint;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "granary-ann-"));
  store = new LmdbOnlineStore({ path: join(dir, "lmdb"), mapSizeBytes: 256 * 1024 * 1024 });
  rand = random(42);
  clock = BigInt(Date.now()) * 1000n - 1_000_000_000n;
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function vector(): number[] {
  return Array.from({ length: DIM }, () => rand() * 2 - 1);
}

/** A vector of length 1: inner product is meant for embeddings normalised by their producer. */
function unit(): number[] {
  const v = vector();
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

async function write(group: FeatureGroup, rows: { id: number; emb: number[] | null; category?: string }[]): Promise<void> {
  const encoder = new RowEncoder(group.columns.map((c) => c.type!));
  clock += 1000n;
  await store.upsert(
    rows.map((r) => ({ key: keyOf(group, r.id), value: encoder.encode(clock, [BigInt(r.id), r.emb, r.category ?? "a", clock]), eventMicros: clock })),
    "committed",
  );
}

function openIndexes(): AnnIndexes {
  return new AnnIndexes(store, { dir: join(dir, "lmdb", "ann"), log, exactBelow: 0 });
}

function searchOf(group: FeatureGroup, query: number[], k: number, exact: boolean, filter?: GroupSearch["filter"]): GroupSearch {
  return { group, column: "emb", metric: group.embeddingIndexes[0]!.metric, query: Float32Array.from(query), k, filter, exact, nowMicros: clock + 1n };
}

/** The ids of an index search and of an exact scan, for one query. */
async function both(indexes: AnnIndexes, group: FeatureGroup, query: number[], k: number, filter?: GroupSearch["filter"]) {
  const ann = await searchGroup(store, indexes, searchOf(group, query, k, false, filter));
  const exact = await searchGroup(store, indexes, searchOf(group, query, k, true, filter));
  const ids = (r: typeof ann) => r.neighbors.map((n) => Number(n.key.readBigUInt64BE(9) ^ (1n << 63n)));
  return { ann, exact, annIds: ids(ann), exactIds: ids(exact) };
}

/** Recall@k of index searches against exact scans over queries; HNSW is approximate (and its multi-threaded build not deterministic). */
async function recall(indexes: AnnIndexes, group: FeatureGroup, queries: number[][], k = 10): Promise<number> {
  let hits = 0;
  for (const q of queries) {
    const { ann, annIds, exactIds } = await both(indexes, group, q, k);
    expect(ann.exact).toBe(false);
    hits += annIds.filter((id) => exactIds.includes(id)).length;
  }
  return hits / (queries.length * k);
}

describe("nearest-neighbour indexes over the LMDB store", () => {
  it.each([DistanceMetric.COSINE, DistanceMetric.L2, DistanceMetric.INNER_PRODUCT])(
    "agree with an exact scan on small data (metric %s), distances computed from the rows",
    async (metric) => {
      const group = itemsGroup(metric);
      const indexes = openIndexes();
      indexes.syncGroup(group, false);
      await write(
        group,
        Array.from({ length: 300 }, (_, i) => ({ id: i, emb: metric === DistanceMetric.INNER_PRODUCT ? unit() : vector() })),
      );
      expect(indexes.size(group.id, "emb")).toBe(300);
      // HNSW is approximate (and its multi-threaded build not deterministic): recall@10 over 20
      // queries, which a broken index or a lost update would bring far down.
      let hits = 0;
      for (let q = 0; q < 20; q++) {
        const query = metric === DistanceMetric.INNER_PRODUCT ? unit() : vector();
        const { ann, exact, annIds, exactIds } = await both(indexes, group, query, 10);
        expect(ann.exact).toBe(false);
        expect(exact.exact).toBe(true);
        hits += annIds.filter((id) => exactIds.includes(id)).length;
        // Distances are computed from the rows: a neighbour both found has the same one.
        ann.neighbors.forEach((n) => {
          const same = exact.neighbors.find((e) => e.key.equals(n.key));
          if (same) expect(n.distance).toBe(same.distance);
        });
      }
      expect(hits / 200).toBeGreaterThanOrEqual(0.97);
      await indexes.stop();
    },
  );

  it("moves an updated entity, forgets a deleted one, skips null and wrong-length embeddings", async () => {
    const group = itemsGroup(DistanceMetric.L2);
    const indexes = openIndexes();
    indexes.syncGroup(group, false);
    await write(
      group,
      Array.from({ length: 50 }, (_, i) => ({ id: i, emb: Array.from({ length: DIM }, () => 10 + i) })),
    );
    const origin = new Array<number>(DIM).fill(0);
    expect((await both(indexes, group, origin, 1)).annIds).toEqual([0]);
    await write(group, [{ id: 49, emb: new Array<number>(DIM).fill(0) }]);
    expect((await both(indexes, group, origin, 1)).annIds).toEqual([49]);
    await store.delete([keyOf(group, 49)], "committed");
    expect((await both(indexes, group, origin, 1)).annIds).toEqual([0]);
    await write(group, [
      { id: 0, emb: null },
      { id: 1, emb: [1, 2, 3] },
    ]);
    expect(indexes.size(group.id, "emb")).toBe(47);
    const { annIds, exactIds } = await both(indexes, group, origin, 3);
    expect(annIds).toEqual([2, 3, 4]);
    expect(exactIds).toEqual([2, 3, 4]);
    await indexes.stop();
  });

  it("applies a filter on other columns, falling back to a scan when too few candidates pass", async () => {
    const group = itemsGroup();
    const indexes = openIndexes();
    indexes.syncGroup(group, false);
    await write(
      group,
      Array.from({ length: 400 }, (_, i) => ({ id: i, emb: vector(), category: i % 100 === 0 ? "rare" : "common" })),
    );
    const filter = compileRowFilter(
      {
        kind: { case: "condition", value: { column: "category", operator: FilterOperator.EQ, value: { kind: { case: "stringValue", value: "rare" } } } },
      } as never,
      group,
    );
    const { ann, annIds, exactIds } = await both(indexes, group, vector(), 10, filter);
    expect(annIds.sort()).toEqual([0, 100, 200, 300]);
    expect(exactIds.sort()).toEqual([0, 100, 200, 300]);
    expect(ann.exact).toBe(true);
    await indexes.stop();
  });

  it("saves and loads its file, replaying the changes made after the save (a crash), and rebuilds a missing or damaged file", async () => {
    const group = itemsGroup();
    let indexes = openIndexes();
    indexes.syncGroup(group, false);
    await write(
      group,
      Array.from({ length: 200 }, (_, i) => ({ id: i, emb: vector() })),
    );
    await indexes.save();
    const file = join(dir, "lmdb", "ann", `${group.id}-emb.usearch`);
    expect(existsSync(file)).toBe(true);
    // After the save: updates, inserts and deletes that only the pending records know of; then the
    // process "dies" (no stop, no save).
    const updated = Array.from({ length: 30 }, (_, i) => ({ id: i * 3, emb: vector() }));
    await write(group, updated);
    await write(
      group,
      Array.from({ length: 20 }, (_, i) => ({ id: 1000 + i, emb: vector() })),
    );
    await store.delete([keyOf(group, 1), keyOf(group, 2)], "committed");
    const queries = Array.from({ length: 10 }, () => vector());

    indexes = openIndexes();
    indexes.syncGroup(group, false);
    expect(indexes.size(group.id, "emb")).toBe(218);
    // Every update made after the save is in the index: each row is found by its new embedding.
    for (const { id, emb } of updated) {
      const { ann } = await both(indexes, group, emb, 1);
      expect(ann.neighbors[0]?.distance).toBeCloseTo(0, 6);
      expect(ann.neighbors[0]?.key.equals(keyOf(group, id))).toBe(true);
    }
    for (const q of queries) expect((await both(indexes, group, q, 10)).annIds).not.toContain(1);
    expect(await recall(indexes, group, queries)).toBeGreaterThanOrEqual(0.97);
    await indexes.stop();

    // Saved before the description recorded the scalar type (float32 then): rebuilt, not read as bfloat16.
    const meta = JSON.parse(readFileSync(`${file}.json`, "utf8")) as Record<string, unknown>;
    expect(meta.quantization).toBe("bf16");
    delete meta.quantization;
    writeFileSync(`${file}.json`, JSON.stringify(meta));
    indexes = openIndexes();
    indexes.syncGroup(group, false);
    expect((await searchGroup(store, indexes, searchOf(group, queries[0]!, 10, false))).exact).toBe(true);
    await indexes.settled();
    expect(indexes.size(group.id, "emb")).toBe(218);
    await indexes.stop();

    // Damaged: the checksum refuses it and the index is rebuilt from the rows.
    writeFileSync(file, Buffer.alloc(4096, 7));
    indexes = openIndexes();
    indexes.syncGroup(group, false);
    expect((await searchGroup(store, indexes, searchOf(group, queries[0]!, 10, false))).exact).toBe(true);
    await indexes.settled();
    expect(indexes.size(group.id, "emb")).toBe(218);
    expect(await recall(indexes, group, queries)).toBeGreaterThanOrEqual(0.97);
    await indexes.stop();

    // Missing, and the metric changed: rebuilt.
    rmSync(file);
    indexes = openIndexes();
    const l2 = itemsGroup(DistanceMetric.L2);
    indexes.syncGroup(l2, false);
    await indexes.settled();
    expect(indexes.size(group.id, "emb")).toBe(218);
    expect(await recall(indexes, l2, queries)).toBeGreaterThanOrEqual(0.97);
    // Dropping the index removes its file.
    indexes.syncGroup(create(FeatureGroupSchema, { ...l2, embeddingIndexes: [] }), false);
    await indexes.stop();
    expect(existsSync(file)).toBe(false);
  });

  it("builds an index added to a group that already has rows, from those rows", async () => {
    const group = itemsGroup();
    await write(
      group,
      Array.from({ length: 5000 }, (_, i) => ({ id: i, emb: vector() })),
    );
    const indexes = openIndexes();
    indexes.syncGroup(group, false);
    // Writes while it builds reach it too.
    await write(group, [{ id: 4999, emb: new Array<number>(DIM).fill(1) }]);
    await indexes.settled();
    expect(indexes.size(group.id, "emb")).toBe(5000);
    const { annIds } = await both(indexes, group, new Array<number>(DIM).fill(1), 1);
    expect(annIds).toEqual([4999]);
    await indexes.stop();
  });

  it("indexes a column appended with a default (rows written before it read the default), and forgets a dropped group", async () => {
    const full = itemsGroup();
    const before = create(FeatureGroupSchema, { ...full, columns: full.columns.filter((c) => c.name !== "emb"), embeddingIndexes: [] });
    const encoder = new RowEncoder(before.columns.map((c) => c.type!));
    clock += 1000n;
    await store.upsert(
      [1, 2, 3].map((id) => ({ key: keyOf(before, id), value: encoder.encode(clock, [BigInt(id), "a", clock]), eventMicros: clock })),
      "committed",
    );
    const defaultVector = [1, 0, 0, 0, 0, 0, 0, 0];
    const emb = create(ColumnSchema, {
      name: "emb",
      type: create(DataTypeSchema, { scalar: ScalarType.FLOAT, list: true, dimension: DIM }),
      defaultValue: { kind: { case: "listValue", value: { values: defaultVector.map((v) => ({ kind: { case: "floatValue" as const, value: v } })) } } },
    });
    const appended = create(FeatureGroupSchema, {
      ...before,
      columns: [...before.columns, emb],
      embeddingIndexes: [create(EmbeddingIndexSchema, { column: "emb", metric: DistanceMetric.L2 })],
    });
    const indexes = openIndexes();
    indexes.syncGroup(appended, false);
    await indexes.settled();
    expect(indexes.size(appended.id, "emb")).toBe(3);
    const found = await searchGroup(store, indexes, { ...searchOf(appended, defaultVector, 3, false), metric: DistanceMetric.L2 });
    expect(found.exact).toBe(false);
    expect(found.neighbors.map((n) => n.distance)).toEqual([0, 0, 0]);
    await indexes.save();
    const file = join(dir, "lmdb", "ann", `${appended.id}-emb.usearch`);
    expect(existsSync(file)).toBe(true);
    indexes.syncGroup(appended, true);
    expect(indexes.size(appended.id, "emb")).toBeUndefined();
    expect(existsSync(file)).toBe(false);
    await indexes.stop();
  });

  it("removes the files and records of groups deleted while it was down, once told the catalogue has loaded", async () => {
    const kept = itemsGroup(DistanceMetric.COSINE, 7n);
    const gone = itemsGroup(DistanceMetric.COSINE, 8n);
    let indexes = openIndexes();
    indexes.syncGroup(kept, false);
    indexes.syncGroup(gone, false);
    for (const g of [kept, gone])
      await write(
        g,
        Array.from({ length: 150 }, (_, i) => ({ id: i, emb: vector() })),
      );
    await indexes.save();
    await write(gone, [{ id: 500, emb: vector() }]); // a pending record too: the process dies before its next save
    const annDir = join(dir, "lmdb", "ann");
    const fileOf = (g: FeatureGroup) => join(annDir, `${g.id}-emb.usearch`);
    writeFileSync(`${fileOf(gone)}.tmp`, "a save a crash cut short");
    writeFileSync(join(annDir, "README.operator"), "not an index file: left alone");
    const records = (name: string, g: FeatureGroup) => {
      const prefix = Buffer.concat([Buffer.from(`\x00${name}\x00`, "latin1"), Buffer.from(g.id.toString(16).padStart(16, "0"), "hex")]);
      const end = Buffer.concat([prefix.subarray(0, prefix.length - 1), Buffer.from([prefix[prefix.length - 1]! + 1])]);
      return [...store.range(prefix, end)].length;
    };
    expect(records("ann-label", gone)).toBe(151);
    expect(records("ann-pending", gone)).toBe(1);

    // Restarted: the catalogue no longer has `gone` (deleted while the service was down).
    indexes = openIndexes();
    indexes.syncGroup(kept, false);
    expect(await indexes.removeOrphans()).toEqual({ files: 3, groups: 1 });
    expect(existsSync(fileOf(kept))).toBe(true);
    expect(existsSync(`${fileOf(kept)}.json`)).toBe(true);
    expect(existsSync(fileOf(gone))).toBe(false);
    expect(existsSync(`${fileOf(gone)}.json`)).toBe(false);
    expect(existsSync(`${fileOf(gone)}.tmp`)).toBe(false);
    expect(existsSync(join(annDir, "README.operator"))).toBe(true);
    expect(records("ann-label", gone)).toBe(0);
    expect(records("ann-pending", gone)).toBe(0);
    expect(records("ann-label", kept)).toBe(150);
    expect(indexes.size(kept.id, "emb")).toBe(150);
    expect(await indexes.removeOrphans()).toEqual({ files: 0, groups: 0 });
    await indexes.stop();
  });

  it("after churn and crashes, finds every live row by its own embedding (a graph degraded by removals is rebuilt)", async () => {
    const group = itemsGroup(DistanceMetric.L2);
    let indexes = openIndexes();
    indexes.syncGroup(group, false);
    const live = new Map<number, number[]>();
    const churn = async (operations: number) => {
      for (let op = 0; op < operations; op++) {
        const ids = Array.from({ length: 10 }, () => Math.floor(rand() * 500));
        if (op % 4 === 3) {
          await store.delete(
            ids.map((id) => keyOf(group, id)),
            "committed",
          );
          ids.forEach((id) => live.delete(id));
        } else {
          const rows = [...new Set(ids)].map((id) => ({ id, emb: vector() }));
          await write(group, rows);
          rows.forEach((r) => live.set(r.id, r.emb));
        }
      }
    };
    for (let round = 0; round < 4; round++) {
      await churn(60);
      await indexes.save();
      await churn(30);
      // A crash (no stop): the next process loads the file and replays what followed.
      indexes = openIndexes();
      indexes.syncGroup(group, false);
      await indexes.settled();
      const missing: number[] = [];
      for (const [id, emb] of live) {
        const { neighbors, exact } = await searchGroup(store, indexes, searchOf(group, emb, 1, false));
        expect(exact).toBe(false);
        if (!neighbors[0]?.key.equals(keyOf(group, id))) missing.push(id);
      }
      expect(missing).toEqual([]);
    }
    await indexes.stop();
  });
});
