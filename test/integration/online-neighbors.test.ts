import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, type Client } from "@connectrpc/connect";
import { createServiceClient } from "@granary/service-clients";
import { loadMetadataConfig, startMetadataService } from "@granary/metadata";
import { loadOnlineConfig, startOnlineService } from "@granary/online";
import { DistanceMetric, FilterOperator, MetadataService, SelectionMode, type Filter } from "@granary/proto/metadata";
import { OnlineService, type FeatureVectors, type FindNeighborsRequest } from "@granary/proto/online";
import { ColumnSchema, ScalarType, ValueStatus, type ColumnData } from "@granary/proto/types";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import type { FindNeighborsRequestSchema } from "@granary/proto/online";
import type { RunningService } from "@granary/server";
import { createLogger } from "@granary/telemetry";
import { createTestDatabase, failure, scratchDir, testKeys, waitFor, waitForServing, type TestDatabase } from "@granary/testing";

const keys = testKeys();
const P = "shop";
const DIM = 4;
const dir = scratchDir("online-neighbors");
let db: TestDatabase;
let metadata: RunningService;
let online: RunningService;
let md: Client<typeof MetadataService>;
let on: Client<typeof OnlineService>;

const i64 = (values: bigint[]): ColumnData => ({ values: { case: "int64s", value: { values } } }) as ColumnData;
const str = (values: string[]): ColumnData => ({ values: { case: "strings", value: { values } } }) as ColumnData;
const ts = (micros: bigint[]): ColumnData => ({ values: { case: "timestamps", value: { values: micros } } }) as ColumnData;
const embeddings = (vectors: number[][]): ColumnData =>
  ({
    values: {
      case: "lists",
      value: {
        offsets: vectors.reduce((o, v) => [...o, o[o.length - 1]! + v.length], [0]),
        items: { values: { case: "floats", value: { values: vectors.flat() } } },
      },
    },
  }) as ColumnData;
const T = (scalar: ScalarType, extra: { list?: boolean; dimension?: number } = {}) => ({ scalar, ...extra });
const nowMicros = () => BigInt(Date.now()) * 1000n;

/** A seeded generator (mulberry32). */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = random(7);
const vec = () => Array.from({ length: DIM }, () => rand() * 2 - 1);

async function writeItems(group: string, rows: { id: number; emb: number[]; category: string; at?: bigint }[]) {
  return on.writeRows({
    project: P,
    featureGroup: { name: group, version: 1 },
    rows: {
      case: "columns",
      value: {
        rowCount: rows.length,
        columns: [
          { name: "item_id", data: i64(rows.map((r) => BigInt(r.id))) },
          { name: "emb", data: embeddings(rows.map((r) => r.emb)) },
          { name: "category", data: str(rows.map((r) => r.category)) },
          { name: "event_time", data: ts(rows.map((r) => r.at ?? nowMicros())) },
        ],
      },
    },
  });
}

type Request = MessageInitShape<typeof FindNeighborsRequestSchema>;
const search = (req: Partial<Request>) =>
  on.findNeighbors({ project: P, target: { case: "featureGroup", value: { name: "items", version: 1 } }, column: "emb", k: 5, ...req } as Request);
const ids = (res: { keys: { name: string; data?: ColumnData }[] }, name = "item_id") =>
  ((res.keys.find((k) => k.name === name)?.data?.values.value as { values: bigint[] }).values ?? []).map(Number);
const eq = (column: string, value: string): Filter =>
  ({ kind: { case: "condition", value: { column, operator: FilterOperator.EQ, value: { kind: { case: "stringValue", value } } } } }) as Filter;

function column(vectors: FeatureVectors | undefined, name: string) {
  const c = vectors?.columns.find((x) => x.name === name);
  if (!c) throw new Error(`no column ${name} in ${vectors?.columns.map((x) => x.name).join(",")}`);
  return { values: c.values?.values.value as unknown, statuses: c.statuses.map((s) => ValueStatus[s]) };
}

/** The exact nearest ids by cosine distance, computed here from what was written. */
function cosineOrder(rows: Map<number, number[]>, query: number[], k: number, keep: (id: number) => boolean = () => true): number[] {
  const cos = (a: number[], b: number[]) => {
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let i = 0; i < a.length; i++) {
      dot += a[i]! * b[i]!;
      na += a[i]! * a[i]!;
      nb += b[i]! * b[i]!;
    }
    return 1 - dot / Math.sqrt(na * nb);
  };
  return [...rows]
    .filter(([id]) => keep(id))
    .map(([id, v]) => ({ id, d: cos(v.map(Math.fround), query.map(Math.fround)) }))
    .sort((a, b) => a.d - b.d)
    .slice(0, k)
    .map((x) => x.id);
}

const written = new Map<number, number[]>();
const categories = new Map<number, string>();

beforeAll(async () => {
  db = await createTestDatabase("online_neighbors");
  const logger = createLogger({ level: "warn", service: "test" });
  metadata = await startMetadataService(
    loadMetadataConfig({ ...keys.env, GRANARY_METADATA_PORT: "0", GRANARY_DATA_DIR: dir.path, DATABASE_URL: db.url }),
    logger,
  );
  online = await startOnlineService(
    loadOnlineConfig({
      ...keys.env,
      GRANARY_ONLINE_PORT: "0",
      GRANARY_DATA_DIR: dir.path,
      GRANARY_METADATA_ADDRESS: metadata.address,
      // Every index is searched through the graph here, however small.
      GRANARY_ONLINE_ANN_EXACT_BELOW: "0",
    }),
    logger,
  );
  md = createServiceClient(MetadataService, metadata.address, { apiKey: keys.adminKey });
  on = createServiceClient(OnlineService, online.address, { apiKey: keys.adminKey });
  await waitForServing(online.address, 10_000);
  await md.createProject({ name: P });
  const columns = [
    create(ColumnSchema, { name: "item_id", type: T(ScalarType.INT64) }),
    create(ColumnSchema, { name: "emb", type: T(ScalarType.FLOAT, { list: true, dimension: DIM }) }),
    create(ColumnSchema, { name: "category", type: T(ScalarType.STRING) }),
    create(ColumnSchema, { name: "event_time", type: T(ScalarType.TIMESTAMP) }),
  ];
  const group = (name: string, extra: object) =>
    md.createFeatureGroup({
      featureGroup: { project: P, name, version: 1, columns, primaryKey: ["item_id"], eventTime: "event_time", onlineEnabled: true, ...extra },
    });
  await group("items", { embeddingIndexes: [{ column: "emb", metric: DistanceMetric.COSINE }] });
  await group("fresh_items", { embeddingIndexes: [{ column: "emb", metric: DistanceMetric.L2 }], onlineTtl: durationFromMs(60 * 60 * 1000) });
  await group("plain_items", {});
  await group("offline_items", { onlineEnabled: false });
  await md.createFeatureView({
    featureView: {
      project: P,
      name: "item_view",
      version: 1,
      query: { featureGroup: { name: "items", version: 1 }, selection: { mode: SelectionMode.INCLUDE, columns: ["emb", "category"] } },
    },
  });
  await waitFor(() => search({ k: 1, query: [1, 0, 0, 0] }).then(() => true), { timeoutMs: 10_000, what: "the catalogue to reach the online service" });
  const rows = Array.from({ length: 300 }, (_, id) => ({ id, emb: vec(), category: id % 50 === 0 ? "rare" : "common" }));
  await writeItems("items", rows);
  rows.forEach((r) => (written.set(r.id, r.emb), categories.set(r.id, r.category)));
}, 60_000);

afterAll(async () => {
  await online?.stop();
  await metadata?.stop();
  await db?.drop();
  dir.remove();
});

describe("FindNeighbors", () => {
  it("returns the k nearest rows of a group, nearest first, as an exact scan does, with distances", async () => {
    for (let q = 0; q < 5; q++) {
      const query = vec();
      const ann = await search({ query, k: 10 });
      const exact = await search({ query, k: 10, exact: true });
      expect(ann.count).toBe(10);
      expect(ids(ann)).toEqual(cosineOrder(written, query, 10));
      expect(ids(exact)).toEqual(ids(ann));
      expect(ann.distances[0]).toBeLessThanOrEqual(ann.distances[9]!);
      ann.distances.forEach((d, i) => expect(d).toBeCloseTo(exact.distances[i]!, 5));
    }
  });

  it("returns the group's rows as vectors on request", async () => {
    const target = written.get(17)!;
    const res = await search({ query: target, k: 1, includeVectors: true });
    expect(ids(res)).toEqual([17]);
    expect(res.distances[0]).toBeCloseTo(0, 5);
    expect(column(res.vectors, "category")).toMatchObject({ values: { values: [categories.get(17)] }, statuses: ["PRESENT"] });
    expect(res.vectors?.eventTimes[0]?.micros).toHaveLength(1);
  });

  it("moves an updated entity and forgets a deleted one", async () => {
    const query = [1, 1, 1, 1];
    await writeItems("items", [{ id: 5, emb: [1, 1, 1, 1], category: "common" }]);
    written.set(5, [1, 1, 1, 1]);
    expect(ids(await search({ query, k: 1 }))[0]).toBe(5);
    await on.deleteRows({ project: P, featureGroup: { name: "items", version: 1 }, keys: { rowCount: 1, columns: [{ name: "item_id", data: i64([5n]) }] } });
    written.delete(5);
    const after = await search({ query, k: 3 });
    expect(ids(after)).not.toContain(5);
    expect(ids(after)).toEqual(cosineOrder(written, query, 3));
  });

  it("filters on other columns of the group", async () => {
    const query = vec();
    const res = await search({ query, k: 10, filter: eq("category", "rare") });
    expect(ids(res)).toEqual(cosineOrder(written, query, 10, (id) => categories.get(id) === "rare"));
    expect(ids(res).length).toBe(6);
  });

  it("never returns rows past the group's online TTL", async () => {
    const old = nowMicros() - 2n * 3600n * 1_000_000n;
    await writeItems("fresh_items", [
      { id: 1, emb: [1, 0, 0, 0], category: "x", at: old },
      { id: 2, emb: [0.9, 0.1, 0, 0], category: "x" },
      { id: 3, emb: [0, 1, 0, 0], category: "x" },
    ]);
    const target = { case: "featureGroup" as const, value: { name: "fresh_items", version: 1 } };
    for (const exact of [false, true]) {
      const res = await search({ target, query: [1, 0, 0, 0], k: 3, exact });
      expect(ids(res)).toEqual([2, 3]);
      expect(res.distances[0]).toBeCloseTo(Math.hypot(0.1, 0.1), 5);
    }
  });

  it("answers through a view: neighbours keyed by its serving keys, with its feature vectors in the same call", async () => {
    const query = vec();
    const res = await search({ target: { case: "featureView", value: { name: "item_view", version: 1 } }, column: "emb", query, k: 4, includeVectors: true });
    expect(ids(res)).toEqual(cosineOrder(written, query, 4));
    expect(res.keys.map((k) => k.name)).toEqual(["item_id"]);
    expect(res.vectors?.rowCount).toBe(4);
    const category = column(res.vectors, "category");
    expect(category.statuses).toEqual(["PRESENT", "PRESENT", "PRESENT", "PRESENT"]);
    expect((category.values as { values: string[] }).values).toEqual(ids(res).map((id) => categories.get(id)));
  });

  it("builds an index added to a group that already has rows", async () => {
    const rows = Array.from({ length: 40 }, (_, id) => ({ id, emb: vec(), category: "c" }));
    await writeItems("plain_items", rows);
    const target = { case: "featureGroup" as const, value: { name: "plain_items", version: 1 } };
    const refused = await failure(search({ target, query: vec() }));
    expect(Code[refused.code]).toBe("FailedPrecondition");
    expect(refused.rawMessage).toMatch(/has no embedding index; add one with UpdateFeatureGroup/);
    const { featureGroup } = await md.getFeatureGroup({ project: P, name: "plain_items", version: 1 });
    await md.updateFeatureGroup({
      featureGroup: { ...featureGroup!, embeddingIndexes: [{ $typeName: "granary.metadata.v1.EmbeddingIndex", column: "emb", metric: DistanceMetric.COSINE }] },
      updateMask: { paths: ["embedding_indexes"] },
    });
    const query = vec();
    const expected = cosineOrder(new Map(rows.map((r) => [r.id, r.emb])), query, 5);
    await waitFor(async () => ids(await search({ target, query })).join() === expected.join(), { timeoutMs: 10_000, what: "the added index to answer" });
  });

  it.each([
    { what: "an unknown group", req: { target: { case: "featureGroup", value: { name: "nope", version: 1 } } }, code: "NotFound", message: /"nope"/ },
    { what: "an unknown view", req: { target: { case: "featureView", value: { name: "nope", version: 1 } } }, code: "NotFound", message: /"nope"/ },
    { what: "a column not in the group", req: { column: "nope" }, code: "FailedPrecondition", message: /column "nope" is not in feature group "items"/ },
    { what: "a column without an index", req: { column: "category" }, code: "FailedPrecondition", message: /no embedding index/ },
    {
      what: "an offline-only group",
      req: { target: { case: "featureGroup", value: { name: "offline_items", version: 1 } } },
      code: "FailedPrecondition",
      message: /not online-enabled/,
    },
    {
      what: "a view column that is not an output",
      req: { target: { case: "featureView", value: { name: "item_view", version: 1 } }, column: "nope" },
      code: "FailedPrecondition",
      message: /not an output column/,
    },
    { what: "a query of the wrong length", req: { query: [1, 2, 3] }, code: "InvalidArgument", message: /query has 3 values.*dimension 4/ },
    { what: "k of 0", req: { k: 0 }, code: "InvalidArgument", message: /k/ },
    { what: "k over 1000", req: { k: 1001 }, code: "InvalidArgument", message: /k/ },
    {
      what: "a filter on an unknown column",
      req: { filter: eq("nope", "x") },
      code: "InvalidArgument",
      message: /filter\.condition\.column: "nope" is not a column/,
    },
    {
      what: "a filter value of the wrong type",
      req: {
        filter: {
          kind: { case: "condition", value: { column: "item_id", operator: FilterOperator.EQ, value: { kind: { case: "stringValue", value: "x" } } } },
        },
      },
      code: "InvalidArgument",
      message: /does not fit column "item_id"/,
    },
  ])("refuses $what with $code", async ({ req, code, message }) => {
    const err = await failure(search({ query: [1, 0, 0, 0], ...(req as Partial<Request>) }));
    expect(Code[err.code]).toBe(code);
    expect(err.rawMessage).toMatch(message);
  });

  it("refuses min_log_sequence without a write log, like GetFeatureVectors", async () => {
    const err = await failure(search({ query: [1, 0, 0, 0], options: { minLogSequence: 5n } as FindNeighborsRequest["options"] }));
    expect(Code[err.code]).toBe("FailedPrecondition");
  });
});
