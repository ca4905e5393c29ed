import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { durationFromMs, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import * as arrow from "apache-arrow";
import { createServiceClient } from "@granary/service-clients";
import { loadMetadataConfig, startMetadataService } from "@granary/metadata";
import { arrowPayloads, loadOfflineConfig, startOfflineService, tableFromChunks } from "@granary/offline";
import { loadOnlineConfig, startOnlineService } from "@granary/online";
import { DatasetSplit, MetadataService, SelectionMode, TrainingDatasetStatus, TransformationFunction, type FeatureView } from "@granary/proto/metadata";
import { OfflineService, type TrainingDataQuery } from "@granary/proto/offline";
import { ScalarType } from "@granary/proto/types";
import type { RunningService } from "@granary/server";
import { createLogger } from "@granary/telemetry";
import { createTestDatabase, scratchDir, testKeys, waitFor, waitForServing, type TestDatabase } from "@granary/testing";
import { fitTransformation } from "@granary/transformations";

const keys = testKeys();
const P = "fraud";
const dir = scratchDir("offline-training");
let db: TestDatabase;
const services: RunningService[] = [];
let md: Client<typeof MetadataService>;
let off: Client<typeof OfflineService>;
const VIEW = { name: "fraud", version: 1 };
const day = (d: number, h = 0) => Date.UTC(2025, 0, d, h);
const T = (scalar: ScalarType) => ({ scalar });

const ts = (ms: number[]) => arrow.vectorFromArray(ms, new arrow.TimestampMillisecond());
const i64 = (v: number[]) => arrow.vectorFromArray(v.map(BigInt), new arrow.Int64());
const f64 = (v: (number | null)[]) => arrow.vectorFromArray(v, new arrow.Float64());
const str = (v: (string | null)[]) => arrow.vectorFromArray(v, new arrow.Utf8());

async function insert(group: string, columns: Record<string, arrow.Vector>) {
  const table = new arrow.Table(columns);
  async function* requests() {
    yield { message: { case: "header" as const, value: { project: P, featureGroup: { name: group, version: 1 } } } };
    for (const ipc of arrowPayloads(table)) yield { message: { case: "chunk" as const, value: { ipc } } };
  }
  return off.insert(requests());
}

function queryOf(extra: object = {}): object {
  return { project: P, featureView: VIEW, ...extra };
}

async function* withSpine(query: object, spine?: arrow.Table) {
  yield { message: { case: "query" as const, value: query as TrainingDataQuery } };
  if (spine) for (const ipc of arrowPayloads(spine, 512)) yield { message: { case: "spineChunk" as const, value: { ipc } } };
}

const trainingData = (query: object, spine?: arrow.Table) => tableFromChunks(off.getTrainingData(withSpine(query, spine)));
const plain = (t: arrow.Table) =>
  t.toArray().map((r) => JSON.parse(JSON.stringify(r.toJSON(), (_, v) => (typeof v === "bigint" ? Number(v) : v))) as Record<string, unknown>);

beforeAll(async () => {
  db = await createTestDatabase("offline_training");
  const logger = createLogger({ level: "warn", service: "test" });
  const metadata = await startMetadataService(
    loadMetadataConfig({ ...keys.env, GRANARY_METADATA_PORT: "0", GRANARY_DATA_DIR: dir.path, DATABASE_URL: db.url }),
    logger,
  );
  services.push(metadata);
  const online = await startOnlineService(
    loadOnlineConfig({ ...keys.env, GRANARY_ONLINE_PORT: "0", GRANARY_DATA_DIR: dir.path, GRANARY_METADATA_ADDRESS: metadata.address }),
    logger,
  );
  services.push(online);
  const offline = await startOfflineService(
    loadOfflineConfig({
      ...keys.env,
      GRANARY_OFFLINE_PORT: "0",
      GRANARY_DATA_DIR: dir.path,
      GRANARY_METADATA_ADDRESS: metadata.address,
      GRANARY_ONLINE_ADDRESS: online.address,
      GRANARY_OFFLINE_DUCKDB_MEMORY: "256MB",
      GRANARY_OFFLINE_MAX_QUERIES: "2",
      GRANARY_OFFLINE_MESSAGE_BYTES: "65536",
    }),
    logger,
  );
  services.push(offline);
  md = createServiceClient(MetadataService, metadata.address, { apiKey: keys.adminKey });
  off = createServiceClient(OfflineService, offline.address, { apiKey: keys.adminKey });
  await md.createProject({ name: P });
  const group = (name: string, columns: [string, ScalarType][], pk: string[], extra: object = {}) =>
    md.createFeatureGroup({
      featureGroup: {
        project: P,
        name,
        version: 1,
        columns: columns.map(([n, s]) => ({ name: n, type: T(s) })),
        primaryKey: pk,
        eventTime: "event_time",
        ...extra,
      },
    });
  await group(
    "transactions",
    [
      ["tid", ScalarType.STRING],
      ["event_time", ScalarType.TIMESTAMP],
      ["cc_num", ScalarType.INT64],
      ["merchant_id", ScalarType.INT64],
      ["amount", ScalarType.DOUBLE],
      ["is_fraud", ScalarType.BOOL],
    ],
    ["tid"],
  );
  await group(
    "cards",
    [
      ["cc_num", ScalarType.INT64],
      ["event_time", ScalarType.TIMESTAMP],
      ["avg_amount", ScalarType.DOUBLE],
    ],
    ["cc_num"],
    { onlineTtl: durationFromMs(30 * 86_400_000) },
  );
  await group(
    "merchants",
    [
      ["merchant_id", ScalarType.INT64],
      ["event_time", ScalarType.TIMESTAMP],
      ["category", ScalarType.STRING],
      ["bank_id", ScalarType.INT64],
    ],
    ["merchant_id"],
  );
  await group(
    "banks",
    [
      ["bank_id", ScalarType.INT64],
      ["event_time", ScalarType.TIMESTAMP],
      ["rating", ScalarType.DOUBLE],
    ],
    ["bank_id"],
  );
  await md.createFeatureView({
    featureView: {
      project: P,
      ...VIEW,
      labels: ["is_fraud"],
      query: {
        featureGroup: { name: "transactions", version: 1 },
        selection: { mode: SelectionMode.INCLUDE, columns: ["amount", "is_fraud"] },
        joins: [
          { query: { featureGroup: { name: "cards", version: 1 }, selection: { mode: SelectionMode.EXCEPT, columns: ["event_time"] } }, on: ["cc_num"] },
          {
            query: {
              featureGroup: { name: "merchants", version: 1 },
              selection: { mode: SelectionMode.INCLUDE, columns: ["category"] },
              joins: [{ query: { featureGroup: { name: "banks", version: 1 }, selection: { mode: SelectionMode.INCLUDE, columns: ["rating"] } } }],
            },
            on: ["merchant_id"],
          },
        ],
      },
      onDemandFeatures: [{ name: "amount_ratio", type: T(ScalarType.DOUBLE), expression: "amount / avg_amount" }],
      transformations: [
        { column: "amount", function: TransformationFunction.MIN_MAX_SCALER },
        { column: "category", function: TransformationFunction.LABEL_ENCODER },
      ],
    },
  });
  await waitForServing(offline.address, 20_000);
  await waitFor(
    async () =>
      await off.computeStatistics({ project: P, featureGroup: { name: "banks", version: 1 } }).then(
        () => true,
        () => false,
      ),
    { timeoutMs: 10_000, what: "groups visible offline" },
  );

  await insert("cards", { cc_num: i64([1, 1, 2]), event_time: ts([day(1), day(10), day(1)]), avg_amount: f64([10, 20, null]) });
  await insert("merchants", { merchant_id: i64([7, 8]), event_time: ts([day(1), day(1)]), category: str(["food", "travel"]), bank_id: i64([100, 101]) });
  await insert("banks", { bank_id: i64([100, 101, 100]), event_time: ts([day(1), day(1), day(6)]), rating: f64([0.9, 0.4, 0.8]) });
  await insert("transactions", {
    tid: str(["t1", "t2", "t3", "t4", "t5", "t6"]),
    event_time: ts([day(2), day(5), day(11), day(12), day(20), day(60)]),
    cc_num: i64([1, 2, 1, 3, 1, 1]),
    merchant_id: i64([7, 8, 7, 7, 9, 8]),
    amount: f64([5, 50, 40, 30, 100, 60]),
    is_fraud: arrow.vectorFromArray([false, true, false, false, true, false], new arrow.Bool()),
  });
}, 90_000);

afterAll(async () => {
  for (const s of services.reverse()) await s.stop();
  await db?.drop();
  dir.remove();
}, 30_000);

describe("GetTrainingData", () => {
  it("joins point in time (nested, TTL), computes on-demand features, returns rows in spine order", async () => {
    const t = await trainingData(queryOf({ untransformed: true }));
    expect(t.schema.fields.map((f) => f.name)).toEqual(["amount", "is_fraud", "avg_amount", "category", "rating", "amount_ratio"]);
    expect(plain(t)).toEqual([
      { amount: 5, is_fraud: false, avg_amount: 10, category: "food", rating: 0.9, amount_ratio: 0.5 },
      { amount: 50, is_fraud: true, avg_amount: null, category: "travel", rating: 0.4, amount_ratio: null },
      { amount: 40, is_fraud: false, avg_amount: 20, category: "food", rating: 0.8, amount_ratio: 2 },
      { amount: 30, is_fraud: false, avg_amount: null, category: "food", rating: 0.8, amount_ratio: null },
      { amount: 100, is_fraud: true, avg_amount: 20, category: null, rating: null, amount_ratio: 5 },
      // day 60: card 1's day-10 row is 50 days old, past the 30-day TTL.
      { amount: 60, is_fraud: false, avg_amount: null, category: "travel", rating: 0.4, amount_ratio: null },
    ]);
  });

  it("applies model-dependent transformations fitted on this data's training split", async () => {
    const t = await trainingData(queryOf({ includeEventTimes: true }));
    const rows = plain(t);
    const amounts = [5, 50, 40, 30, 100, 60];
    const scaler = fitTransformation(TransformationFunction.MIN_MAX_SCALER, { column: "amount", min: 5, max: 100 } as never, "amount");
    expect(rows.map((r) => r.amount)).toEqual(amounts.map((a) => (scaler.outputKind === "double" ? scaler.applyNumber(a) : NaN)));
    expect(rows.map((r) => r.category)).toEqual([0, 1, 0, 0, null, 1]);
    expect(t.schema.fields.find((f) => f.name === "category")!.type.toString()).toBe("Int64");
    expect(rows[0]!.transactions_event_time).toBe(day(2));
    expect(rows[0]!.banks_event_time).toBe(day(1));
  });

  it("fits transformations on the training rows only when the data is split", async () => {
    const split = { kind: { case: "random", value: { seed: 7n, train: 0.5, validation: 0.5, test: 0 } } };
    const rows = plain(await trainingData(queryOf({ untransformed: true, split })));
    const train = rows.filter((r) => r.split === "train").map((r) => r.amount as number);
    expect(train.length).toBeGreaterThan(1);
    // This seed leaves some amount's extreme (5 or 100) out of the training rows.
    expect([Math.min(...train), Math.max(...train)]).not.toEqual([5, 100]);
    const scaler = fitTransformation(
      TransformationFunction.MIN_MAX_SCALER,
      { column: "amount", min: Math.min(...train), max: Math.max(...train) } as never,
      "amount",
    );
    const transformed = plain(await trainingData(queryOf({ split })));
    expect(transformed.map((r) => r.split)).toEqual(rows.map((r) => r.split));
    expect(transformed.map((r) => r.amount)).toEqual(rows.map((r) => (scaler.outputKind === "double" ? scaler.applyNumber(r.amount as number) : NaN)));
  });

  it("tags rows train / validation / test: the same seed gives the same split; time ranges split by event time", async () => {
    const split = (seed: bigint) =>
      trainingData(queryOf({ untransformed: true, split: { kind: { case: "random", value: { seed, train: 0.5, validation: 0.25, test: 0.25 } } } }));
    const a = plain(await split(42n)).map((r) => r.split);
    expect(plain(await split(42n)).map((r) => r.split)).toEqual(a);
    expect(a.every((s) => ["train", "validation", "test"].includes(s as string))).toBe(true);
    const byTime = plain(
      await trainingData(
        queryOf({
          untransformed: true,
          split: { kind: { case: "time", value: { train: { end: timestampFromMs(day(12)) }, test: { start: timestampFromMs(day(12)) } } } },
        }),
      ),
    );
    expect(byTime.map((r) => r.split)).toEqual(["train", "train", "train", "test", "test", "test"]);
    const bad = await trainingData(queryOf({ split: { kind: { case: "random", value: { seed: 1n, train: 0.9, validation: 0.5, test: 0 } } } })).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(Code[bad!.code]).toBe("InvalidArgument");
  });

  it("takes the caller's spine as Arrow chunks after the query", async () => {
    const spine = new arrow.Table({
      cc_num: i64([2, 1, 1]),
      merchant_id: i64([8, 7, 9]),
      event_time: ts([day(3), day(10, 12), day(1)]),
      amount: f64([1, 2, 3]),
    });
    const t = await trainingData(queryOf({ untransformed: true, spine: { kind: { case: "streamed", value: true } } }), spine);
    expect(plain(t).map((r) => [r.amount, r.avg_amount, r.category, r.rating, r.amount_ratio])).toEqual([
      [1, null, "travel", 0.4, null],
      [2, 20, "food", 0.8, 0.1],
      [3, 10, null, null, 0.3],
    ]);
    const unknown = await tableFromChunks(
      off.getTrainingData(withSpine(queryOf({ spine: { kind: { case: "streamed", value: true } } }), new arrow.Table({ shoe: i64([1]) }))),
    ).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(Code[unknown!.code]).toBe("InvalidArgument");
  });

  it("cancelling a call frees its query: later calls still get a connection", async () => {
    for (let i = 0; i < 3; i++) {
      const controller = new AbortController();
      const stream = off.getTrainingData(withSpine(queryOf({ untransformed: true })), { signal: controller.signal });
      controller.abort();
      await (async () => {
        for await (const _ of stream) void _;
      })().catch(() => undefined);
    }
    expect((await trainingData(queryOf({ untransformed: true }))).numRows).toBe(6);
  });
});

describe("training datasets", () => {
  let view: FeatureView;
  it("materialises a dataset and reads back identical rows after later inserts", async () => {
    view = (await md.getFeatureView({ project: P, name: VIEW.name, version: VIEW.version })).featureView!;
    const { trainingDataset: ds } = await off.createTrainingDataset(
      withSpine(queryOf({ split: { kind: { case: "random", value: { seed: 7n, train: 0.7, validation: 0, test: 0.3 } } } })),
    );
    expect(ds!.status).toBe(TrainingDatasetStatus.READY);
    expect(ds!.rowCount).toBe(6n);
    expect(ds!.watermarks.map((w) => [w.featureGroup!.name, w.commitId])).toEqual([
      ["transactions", 1n],
      ["cards", 1n],
      ["merchants", 1n],
      ["banks", 1n],
    ]);
    const amountStats = ds!.statistics.find((s) => s.column === "amount")!;
    expect(ds!.files.every((f) => f.split === DatasetSplit.TRAIN || f.split === DatasetSplit.TEST)).toBe(true);
    expect(ds!.files.reduce((n, f) => n + f.rowCount, 0n)).toBe(6n);
    const read = () => tableFromChunks(off.readTrainingDataset({ project: P, featureView: VIEW, version: ds!.version, untransformed: true }));
    const before = plain(await read());
    expect(before).toHaveLength(6);
    const train = plain(
      await tableFromChunks(off.readTrainingDataset({ project: P, featureView: VIEW, version: ds!.version, split: DatasetSplit.TRAIN, untransformed: true })),
    );
    expect(Math.min(...train.map((r) => r.amount as number))).toBe(amountStats.min);

    await insert("cards", { cc_num: i64([2]), event_time: ts([day(2)]), avg_amount: f64([99]) });
    await insert("transactions", {
      tid: str(["t7"]),
      event_time: ts([day(30)]),
      cc_num: i64([2]),
      merchant_id: i64([8]),
      amount: f64([1]),
      is_fraud: arrow.vectorFromArray([true], new arrow.Bool()),
    });
    expect(plain(await read())).toEqual(before);
    expect((await trainingData(queryOf({ untransformed: true }))).numRows).toBe(7);

    const transformed = plain(
      await tableFromChunks(off.readTrainingDataset({ project: P, featureView: VIEW, version: ds!.version, split: DatasetSplit.TRAIN })),
    );
    expect(Math.min(...transformed.map((r) => r.amount as number))).toBe(0);
    void view;
  });

  it("serves batch data for the latest row per entity, transformed with a dataset's statistics", async () => {
    const rows = plain(
      await tableFromChunks(
        off.getBatchData(
          (async function* () {
            yield {
              message: {
                case: "query" as const,
                value: { project: P, featureView: VIEW, selection: { case: "latest" as const, value: true }, untransformed: true },
              },
            };
          })(),
        ),
      ),
    );
    expect(rows).toHaveLength(7);
    expect(Object.keys(rows[0]!)).toEqual(["amount", "avg_amount", "category", "rating", "amount_ratio"]);
    // "Latest" reads every group as of now: the cards rows are past their 30-day TTL by now.
    expect(rows.map((r) => [r.amount, r.avg_amount, r.rating])).toEqual([
      [5, null, 0.8],
      [50, null, 0.4],
      [40, null, 0.8],
      [30, null, 0.8],
      [100, null, null],
      [60, null, 0.4],
      [1, null, 0.4],
    ]);
    const transformed = plain(
      await tableFromChunks(
        off.getBatchData(
          (async function* () {
            yield { message: { case: "query" as const, value: { project: P, featureView: VIEW, selection: { case: "latest" as const, value: true } } } };
          })(),
        ),
      ),
    );
    expect(transformed.map((r) => r.category)).toEqual([0, 1, 0, 0, null, 1, 1]);
  });

  it("computes and stores a group's statistics", async () => {
    const { statistics } = await off.computeStatistics({ project: P, featureGroup: { name: "transactions", version: 1 } });
    expect(statistics!.rowCount).toBe(7n);
    expect(statistics!.columns.find((c) => c.column === "amount")!.max).toBe(100);
    const stored = await md.getStatistics({ project: P, subject: { kind: { case: "featureGroup", value: { name: "transactions", version: 1 } } } });
    expect(stored.statistics!.rowCount).toBe(7n);
  });
});
