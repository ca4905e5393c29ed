import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { createServiceClient } from "@granary/service-clients";
import { loadMetadataConfig, startMetadataService } from "@granary/metadata";
import { loadOnlineConfig, startOnlineService } from "@granary/online";
import { CommitWatermarkSchema, MetadataService, SelectionMode, TransformationFunction } from "@granary/proto/metadata";
import { Durability, OnlineService, type FeatureVectors } from "@granary/proto/online";
import { ColumnStatisticsSchema } from "@granary/proto/metadata";
import { ScalarType, ValueStatus, type ColumnData } from "@granary/proto/types";
import type { RunningService } from "@granary/server";
import { createLogger } from "@granary/telemetry";
import { createTestDatabase, scratchDir, testKeys, waitFor, waitForServing, type TestDatabase, failure } from "@granary/testing";
import { fitTransformation } from "@granary/transformations";

const keys = testKeys();
const P = "fraud";
const dir = scratchDir("online");
let db: TestDatabase;
let metadata: RunningService;
let online: RunningService;
let md: Client<typeof MetadataService>;
let on: Client<typeof OnlineService>;

const i64 = (values: bigint[]): ColumnData => ({ values: { case: "int64s", value: { values } } }) as ColumnData;
const f64 = (values: number[]): ColumnData => ({ values: { case: "doubles", value: { values } } }) as ColumnData;
const str = (values: string[]): ColumnData => ({ values: { case: "strings", value: { values } } }) as ColumnData;
const ts = (dates: Date[]): ColumnData => ({ values: { case: "timestamps", value: { values: dates.map((d) => BigInt(d.getTime()) * 1000n) } } }) as ColumnData;
const T = (scalar: ScalarType) => ({ scalar });

function column(vectors: FeatureVectors | undefined, name: string) {
  const c = vectors?.columns.find((x) => x.name === name);
  if (!c) throw new Error(`no column ${name} in ${vectors?.columns.map((x) => x.name).join(",")}`);
  return { values: (c.values?.values.value as { values: unknown[] }).values, statuses: c.statuses.map((s) => ValueStatus[s]) };
}

beforeAll(async () => {
  db = await createTestDatabase("online");
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
      GRANARY_ONLINE_MAX_ROWS: "1000",
    }),
    logger,
  );
  md = createServiceClient(MetadataService, metadata.address, { apiKey: keys.adminKey });
  on = createServiceClient(OnlineService, online.address, { apiKey: keys.adminKey });
  await waitForServing(online.address, 10_000);

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
        onlineEnabled: true,
        ...extra,
      },
    });
  await group(
    "transactions",
    [
      ["tid", ScalarType.STRING],
      ["cc_num", ScalarType.INT64],
      ["merchant_id", ScalarType.INT64],
      ["amount", ScalarType.DOUBLE],
      ["event_time", ScalarType.TIMESTAMP],
      ["is_fraud", ScalarType.BOOL],
    ],
    ["tid"],
    { onlineEnabled: false },
  );
  await group(
    "card_aggregates",
    [
      ["cc_num", ScalarType.INT64],
      ["count_10m", ScalarType.INT64],
      ["sum_10m", ScalarType.DOUBLE],
      ["prev_lat", ScalarType.DOUBLE],
      ["prev_lon", ScalarType.DOUBLE],
      ["event_time", ScalarType.TIMESTAMP],
    ],
    ["cc_num"],
  );
  await group(
    "merchants",
    [
      ["merchant_id", ScalarType.INT64],
      ["bank_id", ScalarType.INT64],
      ["country", ScalarType.STRING],
      ["event_time", ScalarType.TIMESTAMP],
    ],
    ["merchant_id"],
  );
  await group(
    "banks",
    [
      ["bank_id", ScalarType.INT64],
      ["credit_rating", ScalarType.DOUBLE],
      ["event_time", ScalarType.TIMESTAMP],
    ],
    ["bank_id"],
    { onlineTtl: durationFromMs(60 * 60 * 1000) },
  );
  await md.createFeatureView({
    featureView: {
      project: P,
      name: "fraud",
      version: 1,
      query: {
        featureGroup: { name: "transactions", version: 1 },
        selection: { mode: SelectionMode.INCLUDE, columns: ["amount", "is_fraud"] },
        joins: [
          {
            query: { featureGroup: { name: "card_aggregates", version: 1 }, selection: { mode: SelectionMode.EXCEPT, columns: ["event_time"] } },
            on: ["cc_num"],
          },
          {
            query: {
              featureGroup: { name: "merchants", version: 1 },
              selection: { mode: SelectionMode.INCLUDE, columns: ["country"] },
              joins: [{ query: { featureGroup: { name: "banks", version: 1 }, selection: { mode: SelectionMode.INCLUDE, columns: ["credit_rating"] } } }],
            },
            on: ["merchant_id"],
          },
        ],
      },
      labels: ["is_fraud"],
      onDemandFeatures: [
        {
          name: "distance_km",
          type: T(ScalarType.DOUBLE),
          expression: "geo.haversine_km(lat, lon, prev_lat, prev_lon)",
          requestParameters: [
            { name: "lat", type: T(ScalarType.DOUBLE) },
            { name: "lon", type: T(ScalarType.DOUBLE) },
          ],
        },
      ],
      transformations: [{ column: "sum_10m", function: TransformationFunction.MIN_MAX_SCALER }],
    },
  });
  // A training dataset record (with the statistics the transformation uses) is written only by the
  // offline service: forged here with the service key, which admins do not hold.
  const asService = createServiceClient(MetadataService, metadata.address, { apiKey: keys.serviceKey });
  await asService.createTrainingDataset({
    trainingDataset: {
      project: P,
      featureView: { name: "fraud", version: 1 },
      watermarks: [create(CommitWatermarkSchema, { featureGroup: { name: "card_aggregates", version: 1 }, commitId: 1n })],
      statistics: [create(ColumnStatisticsSchema, { column: "sum_10m", count: 10n, min: 10, max: 110 })],
    },
  });
  const now = new Date();
  await on.writeRows({
    project: P,
    featureGroup: { name: "card_aggregates", version: 1 },
    rows: {
      case: "columns",
      value: {
        rowCount: 2,
        columns: [
          { name: "cc_num", data: i64([1n, 2n]) },
          { name: "count_10m", data: i64([3n, 4n]) },
          { name: "sum_10m", data: { ...f64([60, 0]), nullIndexes: [1] } as ColumnData },
          { name: "prev_lat", data: f64([59.3293, 0]) },
          { name: "prev_lon", data: f64([18.0686, 0]) },
          { name: "event_time", data: ts([now, now]) },
        ],
      },
    },
  });
  await on.writeRows({
    project: P,
    featureGroup: { name: "merchants", version: 1 },
    rows: {
      case: "columns",
      value: {
        rowCount: 2,
        columns: [
          { name: "merchant_id", data: i64([10n, 11n]) },
          { name: "bank_id", data: i64([100n, 101n]) },
          { name: "country", data: str(["SE", "DK"]) },
          { name: "event_time", data: ts([now, now]) },
        ],
      },
    },
  });
  await on.writeRows({
    project: P,
    featureGroup: { name: "banks", version: 1 },
    rows: {
      case: "columns",
      value: {
        rowCount: 2,
        columns: [
          { name: "bank_id", data: i64([100n, 101n]) },
          { name: "credit_rating", data: f64([0.9, 0.4]) },
          { name: "event_time", data: ts([now, new Date(now.getTime() - 2 * 3600_000)]) },
        ],
      },
    },
  });
}, 60_000);

afterAll(async () => {
  await online?.stop();
  await metadata?.stop();
  await db?.drop();
  dir.remove();
}, 30_000);

const entities = (cards: bigint[], merchants: bigint[], extra: object = {}) => ({
  rowCount: cards.length,
  servingKeys: [
    { name: "cc_num", data: i64(cards) },
    { name: "merchant_id", data: i64(merchants) },
  ],
  requestParameters: [
    { name: "lat", data: f64(cards.map(() => 55.6761)) },
    { name: "lon", data: f64(cards.map(() => 12.5683)) },
  ],
  ...extra,
});

describe("GetFeatureVectors", () => {
  it("joins groups through nested keys, with a status per value, in the view's order", async () => {
    const { vectors } = await on.getFeatureVectors({
      project: P,
      featureView: { name: "fraud", version: 1 },
      entities: entities([1n, 2n, 3n], [10n, 11n, 99n]),
      options: { untransformed: true },
    });
    expect(vectors?.columns.map((c) => c.name)).toEqual(["amount", "count_10m", "sum_10m", "prev_lat", "prev_lon", "country", "credit_rating", "distance_km"]);
    expect(vectors?.rowCount).toBe(3);
    expect(column(vectors, "count_10m")).toEqual({ values: [3n, 4n, 0n], statuses: ["PRESENT", "PRESENT", "NOT_FOUND"] });
    expect(column(vectors, "sum_10m").statuses).toEqual(["PRESENT", "NULL", "NOT_FOUND"]);
    // Transactions are not online: their features come only as passed features.
    expect(column(vectors, "amount").statuses).toEqual(["NOT_FOUND", "NOT_FOUND", "NOT_FOUND"]);
    // merchants → banks: the bank key is read from the merchant's row; bank 101's row is older than the 1 h TTL.
    expect(column(vectors, "country")).toEqual({ values: ["SE", "DK", ""], statuses: ["PRESENT", "PRESENT", "NOT_FOUND"] });
    expect(column(vectors, "credit_rating").statuses).toEqual(["PRESENT", "EXPIRED", "NOT_FOUND"]);
    expect(column(vectors, "credit_rating").values[0]).toBe(0.9);
  });

  it("computes on-demand features with CEL and applies model-dependent transformations like the shared library", async () => {
    const { vectors } = await on.getFeatureVectors({
      project: P,
      featureView: { name: "fraud", version: 1 },
      entities: entities([1n], [10n], { passedFeatures: [{ name: "amount", data: f64([42.5]) }] }),
    });
    const km = column(vectors, "distance_km");
    expect(km.statuses).toEqual(["PRESENT"]);
    expect(km.values[0] as number).toBeGreaterThan(515);
    expect(km.values[0] as number).toBeLessThan(530);
    const scaler = fitTransformation(
      TransformationFunction.MIN_MAX_SCALER,
      create(ColumnStatisticsSchema, { column: "sum_10m", min: 10, max: 110 }),
      "sum_10m",
    );
    if (scaler.outputKind !== "double") throw new Error("min_max_scaler must be a scaler");
    expect(column(vectors, "sum_10m").values[0]).toBeCloseTo(scaler.applyNumber(60), 12);
    expect(column(vectors, "sum_10m").values[0]).toBeCloseTo(0.5, 12);
    expect(column(vectors, "amount")).toEqual({ values: [42.5], statuses: ["PRESENT"] });
  });

  it("reports errors a caller can act on", async () => {
    const missingKey = await failure(
      on.getFeatureVectors({
        project: P,
        featureView: { name: "fraud", version: 1 },
        entities: { rowCount: 1, servingKeys: [{ name: "cc_num", data: i64([1n]) }] },
      }),
    );
    expect(Code[missingKey.code]).toBe("InvalidArgument");
    expect(missingKey.rawMessage).toContain('serving key "merchant_id" is missing');
    const unknown = await failure(on.getFeatureVectors({ project: P, featureView: { name: "nope", version: 1 }, entities: entities([1n], [10n]) }));
    expect(Code[unknown.code]).toBe("NotFound");
    const tooMany = await failure(
      on.getFeatureVectors({
        project: P,
        featureView: { name: "fraud", version: 1 },
        entities: entities(
          Array.from({ length: 1001 }, () => 1n),
          Array.from({ length: 1001 }, () => 10n),
        ),
      }),
    );
    expect(Code[tooMany.code]).toBe("ResourceExhausted");
    const wrongType = await failure(
      on.getFeatureVectors({
        project: P,
        featureView: { name: "fraud", version: 1 },
        entities: {
          rowCount: 1,
          servingKeys: [
            { name: "cc_num", data: str(["1"]) },
            { name: "merchant_id", data: i64([10n]) },
          ],
        },
      }),
    );
    expect(Code[wrongType.code]).toBe("InvalidArgument");
  });
});

describe("WriteRows", () => {
  it("keeps the newest row per key when writes arrive out of order", async () => {
    const write = (count: bigint, at: Date) =>
      on.writeRows({
        project: P,
        featureGroup: { name: "card_aggregates", version: 1 },
        durability: Durability.COMMITTED,
        rows: {
          case: "columns",
          value: {
            rowCount: 1,
            columns: [
              { name: "cc_num", data: i64([7n]) },
              { name: "count_10m", data: i64([count]) },
              { name: "event_time", data: ts([at]) },
            ],
          },
        },
      });
    expect((await write(2n, new Date("2026-01-02"))).writtenCount).toBe(1n);
    const late = await write(1n, new Date("2026-01-01"));
    expect([late.writtenCount, late.ignoredCount]).toEqual([0n, 1n]);
    const { vectors } = await on.getFeatureVectors({
      project: P,
      featureView: { name: "fraud", version: 1 },
      entities: entities([7n], [10n]),
      options: { untransformed: true },
    });
    expect(column(vectors, "count_10m").values).toEqual([2n]);
  });

  it("writes nothing from a batch with one bad row, and names it", async () => {
    const err = await failure(
      on.writeRows({
        project: P,
        featureGroup: { name: "merchants", version: 1 },
        rows: {
          case: "columns",
          value: {
            rowCount: 3,
            columns: [
              { name: "merchant_id", data: { ...i64([20n, 21n, 0n]), nullIndexes: [2] } as ColumnData },
              { name: "event_time", data: ts([new Date(), new Date(), new Date()]) },
            ],
          },
        },
      }),
    );
    expect(Code[err.code]).toBe("InvalidArgument");
    expect(err.rawMessage).toContain('row 2: primary-key column "merchant_id" is null');
    const { vectors } = await on.getFeatureVectors({
      project: P,
      featureView: { name: "fraud", version: 1 },
      entities: entities([1n, 1n], [20n, 21n]),
      options: { untransformed: true },
    });
    expect(column(vectors, "country").statuses).toEqual(["NOT_FOUND", "NOT_FOUND"]);
    const typed = await failure(
      on.writeRows({
        project: P,
        featureGroup: { name: "merchants", version: 1 },
        rows: {
          case: "columns",
          value: {
            rowCount: 1,
            columns: [
              { name: "merchant_id", data: str(["x"]) },
              { name: "event_time", data: ts([new Date()]) },
            ],
          },
        },
      }),
    );
    expect(typed.rawMessage).toContain('"merchant_id" must carry int64s');
    const offline = await failure(
      on.writeRows({ project: P, featureGroup: { name: "transactions", version: 1 }, rows: { case: "columns", value: { rowCount: 0, columns: [] } } }),
    );
    expect(Code[offline.code]).toBe("FailedPrecondition");
  });

  it("deletes rows by key", async () => {
    await on.deleteRows({
      project: P,
      featureGroup: { name: "merchants", version: 1 },
      keys: { rowCount: 1, columns: [{ name: "merchant_id", data: i64([11n]) }] },
    });
    const { vectors } = await on.getFeatureVectors({
      project: P,
      featureView: { name: "fraud", version: 1 },
      entities: entities([2n], [11n]),
      options: { untransformed: true },
    });
    expect(column(vectors, "country").statuses).toEqual(["NOT_FOUND"]);
  });

  it("without a write log (no GRANARY_NATS_URL): writes answer sequence 0, status says so, and a read asking for a log position is refused", async () => {
    const del = await on.deleteRows({
      project: P,
      featureGroup: { name: "merchants", version: 1 },
      keys: { rowCount: 1, columns: [{ name: "merchant_id", data: i64([12345n]) }] },
    });
    expect(del.logSequence).toBe(0n);
    expect(await on.getReplicaStatus({})).toMatchObject({ log: "none", appliedSequence: 0n, lag: 0n });
    const err = await failure(
      on.getFeatureVectors({ project: P, featureView: { name: "fraud", version: 1 }, entities: entities([2n], [11n]), options: { minLogSequence: 5n } }),
    );
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(err.rawMessage).toContain("runs without a write log (GRANARY_NATS_URL is not set)");
    expect((await failure(on.listDeadLetters({ project: P }))).code).toBe(Code.FailedPrecondition);
  });
});

describe("the catalogue cache", () => {
  it("sees a view deleted upstream within a second", async () => {
    await md.createFeatureView({
      featureView: { project: P, name: "short_lived", version: 1, query: { featureGroup: { name: "card_aggregates", version: 1 } } },
    });
    await waitFor(
      async () =>
        await on
          .getFeatureVectors({
            project: P,
            featureView: { name: "short_lived", version: 1 },
            entities: { rowCount: 1, servingKeys: [{ name: "cc_num", data: i64([1n]) }] },
          })
          .then(
            () => true,
            () => false,
          ),
      { timeoutMs: 1000, what: "view visible" },
    );
    await md.deleteFeatureView({ project: P, name: "short_lived", version: 1 });
    const started = Date.now();
    await waitFor(
      async () =>
        await on
          .getFeatureVectors({
            project: P,
            featureView: { name: "short_lived", version: 1 },
            entities: { rowCount: 1, servingKeys: [{ name: "cc_num", data: i64([1n]) }] },
          })
          .then(
            () => false,
            (e: unknown) => ConnectError.from(e).code === Code.NotFound,
          ),
      { timeoutMs: 1000, what: "view gone" },
    );
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
