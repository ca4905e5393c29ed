import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import * as arrow from "apache-arrow";
import { createServiceClient } from "@granary/service-clients";
import { arrowPayloads, tableFromChunks } from "@granary/offline";
import {
  ColumnRole,
  FeatureLoggingSchema,
  MetadataService,
  MonitoringConfigSchema,
  Role,
  SelectionMode,
  TransformationFunction,
} from "@granary/proto/metadata";
import { OfflineService, type LogFeaturesRequest, type TrainingDataQuery } from "@granary/proto/offline";
import { ScalarType, type ColumnData } from "@granary/proto/types";
import { scratchDir, testKeys, waitFor, waitForServing } from "@granary/testing";
import { startOfflineStack, type OfflineStack } from "./support/offline-stack.js";

const keys = testKeys();
const P = "shop";
const dir = scratchDir("feature-logging");
const VIEW = { name: "fraud", version: 1 };
const LOGS = { name: "fraud_1_logging", version: 1 };
const day = (d: number, h = 0) => Date.UTC(2025, 0, d, h);
const T = (scalar: ScalarType, list = false) => ({ scalar, list });
let stack: OfflineStack;
let md: Client<typeof MetadataService>;
let off: Client<typeof OfflineService>;
let scientistOff: Client<typeof OfflineService>;
let viewerMd: Client<typeof MetadataService>;

const doubles = (values: number[], nullIndexes: number[] = []): ColumnData =>
  ({ values: { case: "doubles", value: { values } }, nullIndexes }) as unknown as ColumnData;
const int64s = (values: number[]): ColumnData => ({ values: { case: "int64s", value: { values: values.map(BigInt) } } }) as unknown as ColumnData;
const strings = (values: string[]): ColumnData => ({ values: { case: "strings", value: { values } } }) as unknown as ColumnData;
const bools = (values: boolean[]): ColumnData => ({ values: { case: "bools", value: { values } } }) as unknown as ColumnData;

const plain = (t: arrow.Table) =>
  t.toArray().map((r) => JSON.parse(JSON.stringify(r.toJSON(), (_, v) => (typeof v === "bigint" ? Number(v) : v))) as Record<string, unknown>);

async function insert(group: string, columns: Record<string, arrow.Vector>) {
  const table = new arrow.Table(columns);
  async function* requests() {
    yield { message: { case: "header" as const, value: { project: P, featureGroup: { name: group, version: 1 } } } };
    for (const ipc of arrowPayloads(table)) yield { message: { case: "chunk" as const, value: { ipc } } };
  }
  return off.insert(requests());
}

const readLogs = () => tableFromChunks(off.read({ project: P, featureGroup: LOGS }));
const commitsOfLogs = async () => (await md.listCommits({ project: P, featureGroup: LOGS, pageSize: 100 })).commits.length;

function logRequest(extra: Partial<LogFeaturesRequest> = {}): LogFeaturesRequest {
  return {
    project: P,
    featureView: VIEW,
    rowCount: 2,
    servingKeys: [{ name: "cc_num", data: int64s([1, 2]) }],
    untransformed: [
      { name: "amount", data: doubles([5, 50]) },
      { name: "avg_amount", data: doubles([10, 0], [1]) },
    ],
    transformed: [{ name: "amount", data: doubles([0.1, 0.9]) }],
    requestParameters: [{ name: "km", data: doubles([3, 4]) }],
    predictions: [{ name: "is_fraud", data: bools([false, true]) }],
    model: "fraud_model",
    modelVersion: 3,
    trainingDatasetVersion: 1,
    logTime: timestampFromMs(day(20)),
    ...extra,
  } as LogFeaturesRequest;
}

beforeAll(async () => {
  stack = await startOfflineStack({ name: "feature_logging", dataDir: dir.path, keys });
  ({ md, off } = stack);
  await md.createProject({ name: P });
  const scientist = (await md.createApiKey({ user: "dana", scopes: [{ project: P, role: Role.DATA_SCIENTIST }] })).secret;
  const viewer = (await md.createApiKey({ user: "vic", scopes: [{ project: P, role: Role.VIEWER }] })).secret;
  scientistOff = createServiceClient(OfflineService, stack.addresses.offline, { apiKey: scientist });
  viewerMd = createServiceClient(MetadataService, stack.addresses.metadata, { apiKey: viewer });
  const group = (name: string, columns: [string, ScalarType][], pk: string[]) =>
    md.createFeatureGroup({
      featureGroup: { project: P, name, version: 1, columns: columns.map(([n, s]) => ({ name: n, type: T(s) })), primaryKey: pk, eventTime: "event_time" },
    });
  await group(
    "transactions",
    [
      ["tid", ScalarType.STRING],
      ["event_time", ScalarType.TIMESTAMP],
      ["cc_num", ScalarType.INT64],
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
  );
  await md.createFeatureView({
    featureView: {
      project: P,
      ...VIEW,
      labels: ["is_fraud"],
      query: {
        featureGroup: { name: "transactions", version: 1 },
        selection: { mode: SelectionMode.INCLUDE, columns: ["amount", "is_fraud"] },
        joins: [{ query: { featureGroup: { name: "cards", version: 1 }, selection: { mode: SelectionMode.EXCEPT, columns: ["event_time"] } }, on: ["cc_num"] }],
      },
      onDemandFeatures: [
        { name: "km_double", type: T(ScalarType.DOUBLE), expression: "km * 2.0", requestParameters: [{ name: "km", type: T(ScalarType.DOUBLE) }] },
      ],
      transformations: [{ column: "amount", function: TransformationFunction.MIN_MAX_SCALER }],
    },
  });
  // A view without labels: its predictions are one "prediction" double.
  await md.createFeatureView({
    featureView: { project: P, name: "spend", version: 1, query: { featureGroup: { name: "cards", version: 1 } } },
  });
  await waitForServing(stack.addresses.offline, 20_000);
  await waitFor(
    async () =>
      await off.computeStatistics({ project: P, featureGroup: { name: "cards", version: 1 } }).then(
        () => true,
        () => false,
      ),
    {
      timeoutMs: 10_000,
      what: "groups visible offline",
    },
  );
  await insert("cards", {
    cc_num: arrow.vectorFromArray([1n, 2n], new arrow.Int64()),
    event_time: arrow.vectorFromArray([day(1), day(1)], new arrow.TimestampMillisecond()),
    avg_amount: arrow.vectorFromArray([10, 20], new arrow.Float64()),
  });
}, 90_000);

afterAll(async () => {
  await stack?.stop();
  dir.remove();
}, 30_000);

describe("EnableFeatureLogging", () => {
  it("creates the logging group with the view's logging schema, sets the view's settings and a lineage edge", async () => {
    const res = await md.enableFeatureLogging({ project: P, featureView: VIEW, logging: { onlineEnabled: true, sampleRate: 0.5 } });
    const g = res.loggingFeatureGroup!;
    expect(g.name).toBe("fraud_1_logging");
    expect(g.version).toBe(1);
    expect(g.columns.map((c) => [c.name, ScalarType[c.type!.scalar]])).toEqual([
      ["log_id", "STRING"],
      ["log_time", "TIMESTAMP"],
      ["cc_num", "INT64"],
      ["amount", "DOUBLE"],
      ["avg_amount", "DOUBLE"],
      ["km_double", "DOUBLE"],
      ["amount_transformed", "DOUBLE"],
      ["request_km", "DOUBLE"],
      ["predicted_is_fraud", "BOOL"],
      ["model", "STRING"],
      ["model_version", "INT32"],
      ["training_dataset_version", "INT32"],
      ["source", "STRING"],
    ]);
    expect(g.primaryKey).toEqual(["log_id"]);
    expect(g.eventTime).toBe("log_time");
    expect(g.onlineEnabled).toBe(false);
    expect(g.statisticsConfig?.enabled ?? false).toBe(false);
    expect(res.featureView!.logging).toMatchObject({ onlineEnabled: true, sampleRate: 0.5 });
    expect(res.featureView!.loggingFeatureGroup).toMatchObject(LOGS);
    const stored = (await md.getFeatureView({ project: P, ...VIEW })).featureView!;
    expect(stored.loggingFeatureGroup).toMatchObject(LOGS);
    expect(stored.outputColumns.find((c) => c.name === "is_fraud")?.role).toBe(ColumnRole.LABEL);
    const lineage = await md.getLineage({ project: P, node: { kind: 2, name: VIEW.name, version: 1 }, depth: 1 });
    expect(JSON.stringify(lineage, (_, v) => (typeof v === "bigint" ? Number(v) : v))).toContain("fraud_1_logging");
  });

  it("is idempotent: a second call returns the same group and keeps the settings when none are given", async () => {
    const first = await md.getFeatureGroup({ project: P, ...LOGS });
    const again = await md.enableFeatureLogging({ project: P, featureView: VIEW });
    expect(again.loggingFeatureGroup!.id).toBe(first.featureGroup!.id);
    expect(again.featureView!.logging).toMatchObject({ onlineEnabled: true, sampleRate: 0.5 });
    const { featureGroups } = await md.listFeatureGroups({ project: P, name: "fraud_1_logging" });
    expect(featureGroups).toHaveLength(1);
  });

  it("gives a view without labels one prediction double", async () => {
    const res = await md.enableFeatureLogging({ project: P, featureView: { name: "spend", version: 1 } });
    const names = res.loggingFeatureGroup!.columns.map((c) => c.name);
    expect(names).toContain("prediction");
    expect(res.loggingFeatureGroup!.columns.find((c) => c.name === "prediction")!.type!.scalar).toBe(ScalarType.DOUBLE);
    expect(names.some((n) => n.startsWith("predicted_"))).toBe(false);
  });

  it("refuses a bad sample rate, a missing view, and a viewer", async () => {
    await expect(md.enableFeatureLogging({ project: P, featureView: VIEW, logging: { sampleRate: 1.5 } })).rejects.toMatchObject({
      code: Code.InvalidArgument,
    });
    await expect(md.enableFeatureLogging({ project: P, featureView: { name: "nope", version: 1 } })).rejects.toMatchObject({ code: Code.NotFound });
    await expect(viewerMd.enableFeatureLogging({ project: P, featureView: VIEW })).rejects.toMatchObject({ code: Code.PermissionDenied });
  });

  it("reserves the logging names: CreateFeatureGroup refuses them", async () => {
    const err = await md
      .createFeatureGroup({
        featureGroup: { project: P, name: "other_2_logging", version: 1, columns: [{ name: "id", type: T(ScalarType.INT64) }], primaryKey: ["id"] },
      })
      .catch((e: unknown) => ConnectError.from(e));
    expect(err).toMatchObject({ code: Code.InvalidArgument });
    expect((err as ConnectError).rawMessage).toContain("reserved for feature logging");
    // A name merely containing "logging" is fine.
    await md.createFeatureGroup({
      featureGroup: { project: P, name: "logging_events", version: 1, columns: [{ name: "id", type: T(ScalarType.INT64) }], primaryKey: ["id"] },
    });
  });

  it("UpdateFeatureView changes logging and monitoring, and refuses invalid ones", async () => {
    const view = (await md.getFeatureView({ project: P, name: "spend", version: 1 })).featureView!;
    const updated = await md.updateFeatureView({
      featureView: {
        ...view,
        logging: create(FeatureLoggingSchema, { onlineEnabled: true, sampleRate: 0.25 }),
        monitoring: create(MonitoringConfigSchema, { defaultThresholds: { psi: 0.3 } }),
      },
      updateMask: { paths: ["logging", "monitoring"] },
    });
    expect(updated.featureView!.logging).toMatchObject({ onlineEnabled: true, sampleRate: 0.25 });
    expect(updated.featureView!.monitoring!.defaultThresholds!.psi).toBe(0.3);
    await expect(
      md.updateFeatureView({
        featureView: { ...view, etag: "", logging: create(FeatureLoggingSchema, { sampleRate: -0.1 }) },
        updateMask: { paths: ["logging"] },
      }),
    ).rejects.toMatchObject({
      code: Code.InvalidArgument,
    });
    await expect(
      md.updateFeatureView({
        featureView: { ...view, etag: "", monitoring: create(MonitoringConfigSchema, { features: [{ column: "no_such", thresholds: { psi: 0.1 } }] }) },
        updateMask: { paths: ["monitoring"] },
      }),
    ).rejects.toMatchObject({ code: Code.InvalidArgument });
    const after = (await md.getFeatureView({ project: P, name: "spend", version: 1 })).featureView!;
    expect(after.logging?.sampleRate).toBe(0.25);
  });

  it("DeleteFeatureView refuses a view whose logging group exists, naming it", async () => {
    const err = await md.deleteFeatureView({ project: P, name: "spend", version: 1 }).catch((e: unknown) => ConnectError.from(e));
    expect(err).toMatchObject({ code: Code.FailedPrecondition });
    expect((err as ConnectError).rawMessage).toContain("spend_1_logging");
    await md.deleteFeatureGroup({ project: P, name: "spend_1_logging", version: 1 });
    await md.deleteFeatureView({ project: P, name: "spend", version: 1 });
  });
});

describe("LogFeatures", () => {
  it("appends the vectors as one commit of the logging group; Read returns what was logged", async () => {
    const before = await commitsOfLogs();
    const res = await scientistOff.logFeatures(logRequest());
    expect(res.loggedCount).toBe(2n);
    expect(res.commitId).toBeGreaterThan(0n);
    expect(res.loggingFeatureGroup).toMatchObject(LOGS);
    expect(await commitsOfLogs()).toBe(before + 1);
    const rows = plain(await readLogs()).sort((a, b) => Number(a.cc_num) - Number(b.cc_num));
    expect(rows).toHaveLength(2);
    for (const r of rows) expect(r.log_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(rows.map(({ log_id: _, ...r }) => r)).toEqual([
      {
        log_time: day(20),
        cc_num: 1,
        amount: 5,
        avg_amount: 10,
        km_double: null,
        amount_transformed: 0.1,
        request_km: 3,
        predicted_is_fraud: false,
        model: "fraud_model",
        model_version: 3,
        training_dataset_version: 1,
        source: "client",
      },
      {
        log_time: day(20),
        cc_num: 2,
        amount: 50,
        avg_amount: null,
        km_double: null,
        amount_transformed: 0.9,
        request_km: 4,
        predicted_is_fraud: true,
        model: "fraud_model",
        model_version: 3,
        training_dataset_version: 1,
        source: "client",
      },
    ]);
  });

  it("creates the logging group on first use (a view never enabled)", async () => {
    await md.createFeatureView({
      featureView: { project: P, name: "cards_view", version: 1, query: { featureGroup: { name: "cards", version: 1 } } },
    });
    await waitFor(
      async () =>
        await off
          .logFeatures({
            project: P,
            featureView: { name: "cards_view", version: 1 },
            rowCount: 1,
            predictions: [{ name: "prediction", data: doubles([0.7]) }],
          })
          .then(
            () => true,
            (e: unknown) => {
              if (ConnectError.from(e).code !== Code.NotFound) throw e;
              return false;
            },
          ),
      { timeoutMs: 10_000, what: "the view visible offline" },
    );
    const rows = plain(await tableFromChunks(off.read({ project: P, featureGroup: { name: "cards_view_1_logging", version: 1 } })));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ prediction: 0.7, cc_num: null, avg_amount: null, model: null, source: "client" });
    const view = (await md.getFeatureView({ project: P, name: "cards_view", version: 1 })).featureView!;
    expect(view.loggingFeatureGroup).toMatchObject({ name: "cards_view_1_logging", version: 1 });
  });

  it("the logs are a spine of GetTrainingData", async () => {
    async function* query() {
      yield {
        message: {
          case: "query" as const,
          value: { project: P, featureView: VIEW, untransformed: true, spine: { kind: { case: "streamed", value: true } } } as unknown as TrainingDataQuery,
        },
      };
      const logs = await readLogs();
      const spine = new arrow.Table({ cc_num: logs.getChild("cc_num")!, event_time: logs.getChild("log_time")! });
      for (const ipc of arrowPayloads(spine)) yield { message: { case: "spineChunk" as const, value: { ipc } } };
    }
    const t = await tableFromChunks(off.getTrainingData(query()));
    const rows = plain(t).sort((a, b) => Number(a.avg_amount) - Number(b.avg_amount));
    expect(rows.map((r) => r.avg_amount)).toEqual([10, 20]);
  });

  it.each([
    ["an unknown feature", { untransformed: [{ name: "nope", data: doubles([1, 2]) }] }, "untransformed[0]"],
    ["a label as a feature", { untransformed: [{ name: "is_fraud", data: bools([true, false]) }] }, "is_fraud"],
    ["a wrong length", { untransformed: [{ name: "amount", data: doubles([1, 2, 3]) }] }, "amount"],
    ["a wrong type", { untransformed: [{ name: "amount", data: strings(["a", "b"]) }] }, "amount"],
    ["an unknown prediction", { predictions: [{ name: "prediction", data: doubles([1, 2]) }] }, "predictions[0]"],
    ["a transformed column without transformation", { transformed: [{ name: "avg_amount", data: doubles([1, 2]) }] }, "avg_amount"],
    ["a null index out of range", { untransformed: [{ name: "amount", data: doubles([1, 2], [5]) }] }, "amount"],
  ])("refuses %s with INVALID_ARGUMENT naming it and writes nothing", async (_what, extra, named) => {
    const before = await commitsOfLogs();
    const err = await off.logFeatures(logRequest(extra as Partial<LogFeaturesRequest>)).catch((e: unknown) => ConnectError.from(e));
    expect(err).toMatchObject({ code: Code.InvalidArgument });
    expect((err as ConnectError).rawMessage).toContain(named);
    expect(await commitsOfLogs()).toBe(before);
  });

  it("refuses a view that does not exist with NOT_FOUND", async () => {
    await expect(off.logFeatures(logRequest({ featureView: { name: "nope", version: 1 } } as Partial<LogFeaturesRequest>))).rejects.toMatchObject({
      code: Code.NotFound,
    });
  });
});
