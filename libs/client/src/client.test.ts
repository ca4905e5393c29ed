import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { startTestSuite } from "@granary/suite";
import { waitFor } from "@granary/testing";
import { connect, feature, type FeatureGroup, type FeatureView, type Granary, type InsertProgress, type Project } from "./index.js";

// The SDK against the real suite (four services, PostgreSQL, LMDB, Parquet) on free ports.
let stopSuite: () => Promise<void>;
let granary: Granary;
let project: Project;
let transactions: FeatureGroup;
let cards: FeatureGroup;
let view: FeatureView;
let addresses: Record<"metadata" | "online" | "offline" | "registry", string>;

const day = (d: number, h = 0) => new Date(Date.UTC(2025, 0, d, h));

beforeAll(async () => {
  const { suite, keys, stop } = await startTestSuite("sdk");
  stopSuite = stop;
  addresses = suite.addresses;
  granary = connect({ addresses: suite.addresses, timeoutMs: 20_000, apiKey: keys.adminKey });
  await granary.waitUntilServing(30_000);
  project = await granary.project("sdk");
  transactions = await project.getOrCreateFeatureGroup({
    name: "transactions",
    columns: [
      { name: "tid", type: "int64" },
      { name: "cc_num", type: "int64" },
      { name: "amount", type: "double" },
      { name: "category", type: "string" },
      { name: "datetime", type: "timestamp" },
      { name: "is_fraud", type: "bool" },
    ],
    primaryKey: ["tid"],
    eventTime: "datetime",
  });
  cards = await project.getOrCreateFeatureGroup({
    name: "card_aggs",
    columns: [
      { name: "cc_num", type: "int64" },
      { name: "count_7d", type: "int32" },
      { name: "spend_7d", type: "double" },
      { name: "ts", type: "timestamp" },
    ],
    primaryKey: ["cc_num"],
    eventTime: "ts",
    onlineEnabled: true,
  });
}, 120_000);

afterAll(async () => {
  await stopSuite?.();
}, 60_000);

describe("connection", () => {
  it("reports every service SERVING", async () => {
    const report = await granary.health();
    expect(Object.values(report).map((r) => r.status)).toEqual(["SERVING", "SERVING", "SERVING", "SERVING"]);
  });

  it("reports an unreachable suite without throwing", async () => {
    const nowhere = connect({
      addresses: { metadata: "127.0.0.1:1", online: "127.0.0.1:1", offline: "127.0.0.1:1", registry: "127.0.0.1:1" },
      retry: { attempts: 1 },
    });
    const report = await nowhere.health(500);
    expect(report.metadata.status).toBe("UNREACHABLE");
  });

  it("without a key, the UNAUTHENTICATED error says where keys are looked for", async () => {
    const env = { GRANARY_DATA_DIR: join(tmpdir(), "granary-no-such-data-dir") };
    const anonymous = connect({ addresses, env });
    expect(anonymous.apiKeySource).toBeUndefined();
    const err = await anonymous.project("sdk", { create: false }).then(
      () => new ConnectError("resolved"),
      (e: unknown) => ConnectError.from(e),
    );
    expect(err.code).toBe(Code.Unauthenticated);
    expect(err.rawMessage).toContain(
      `(no API key was found: it is read from the apiKey option, GRANARY_API_KEY, the file GRANARY_API_KEY_FILE names, or ${join(env.GRANARY_DATA_DIR, "admin.key")}`,
    );
    expect(connect({ addresses, env: { GRANARY_API_KEY: "grn_x" } }).apiKeySource).toBe("GRANARY_API_KEY");
  });
});

describe("feature groups", () => {
  it("get-or-create returns the same version, and a different definition is ALREADY_EXISTS", async () => {
    const again = await project.getOrCreateFeatureGroup({
      name: "card_aggs",
      columns: [
        { name: "cc_num", type: "int64" },
        { name: "count_7d", type: "int32" },
        { name: "spend_7d", type: "double" },
        { name: "ts", type: "timestamp" },
      ],
      primaryKey: ["cc_num"],
      eventTime: "ts",
      onlineEnabled: true,
    });
    expect(again.definition.id).toBe(cards.definition.id);
    const err = await project
      .getOrCreateFeatureGroup({ name: "card_aggs", columns: [{ name: "cc_num", type: "int64" }], primaryKey: ["cc_num"] })
      .catch((e: unknown) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.AlreadyExists);
  });

  it("inserts plain rows with progress, reads them back, and travels in time", async () => {
    const progress: InsertProgress[] = [];
    const first = await cards.insert(
      [
        { cc_num: 1, count_7d: 3, spend_7d: 120.5, ts: day(1) },
        { cc_num: 2, count_7d: 1, spend_7d: 10, ts: day(1) },
      ],
      { onProgress: (p) => progress.push(p) },
    );
    expect(first.rowsInserted).toBe(2);
    expect(progress.at(-1)).toMatchObject({ rowsSent: 2, totalRows: 2 });
    expect(progress.at(-1)!.bytesSent).toBeGreaterThan(0);
    await cards.insert([{ cc_num: 1, count_7d: 5, spend_7d: 300, ts: day(3) }]);

    const now = await cards.read();
    const byKey = new Map(now.toArray().map((r) => [Number(r.cc_num), r.toJSON()]));
    expect(byKey.get(1)?.["spend_7d"]).toBe(300);
    expect(byKey.get(2)?.["count_7d"]).toBe(1);

    const before = await cards.read({ asOf: first.commitId, filter: feature("cc_num").eq(1) });
    expect(before.numRows).toBe(1);
    expect(before.getChild("spend_7d")?.get(0)).toBe(120.5);
  });

  it("rejects a value of the wrong type before sending anything", async () => {
    await expect(cards.insert([{ cc_num: "not a number" as unknown as number, ts: day(1) }])).rejects.toThrow(/row 0, column "cc_num": expected an integer/);
    await expect(cards.insert([{ nope: 1 }])).rejects.toThrow(/column "nope" is not in the feature group/);
  });

  it("appends a feature with a default", async () => {
    const g = await project.getOrCreateFeatureGroup({
      name: "profiles",
      columns: [
        { name: "id", type: "int64" },
        { name: "age", type: "int32" },
      ],
      primaryKey: ["id"],
    });
    await g.appendFeatures([{ name: "tier", type: "string", defaultValue: "basic" }]);
    expect(g.columns.map((c) => c.name)).toEqual(["id", "age", "tier"]);
    expect((await project.getFeatureGroup("profiles")).columns.map((c) => c.name)).toContain("tier");
  });

  it("deletes rows by primary key from both stores", async () => {
    const g = await project.getOrCreateFeatureGroup({
      name: "gdpr",
      columns: [
        { name: "id", type: "int64" },
        { name: "v", type: "double" },
        { name: "t", type: "timestamp" },
      ],
      primaryKey: ["id"],
      eventTime: "t",
    });
    await g.insert([
      { id: 1, v: 1, t: day(1) },
      { id: 2, v: 2, t: day(1) },
    ]);
    const res = await g.deleteRows([{ id: 1 }]);
    expect(res.rowsDeleted).toBe(1);
    const left = await g.read();
    expect(left.toArray().map((r) => Number(r.id))).toEqual([2]);
    // Time travel before the delete still sees the row; an erase removes it from that version too.
    const ids = async (asOf: bigint) =>
      (await g.read({ asOf }))
        .toArray()
        .map((r) => Number(r.id))
        .sort();
    expect(await ids(res.commitId - 1n)).toEqual([1, 2]);
    await g.deleteRows([{ id: 1 }], { erase: true });
    expect(await ids(res.commitId - 1n)).toEqual([2]);
  });

  it("compacts a group's files without changing what reads see, and sets an offline retention", async () => {
    const g = await project.getOrCreateFeatureGroup({
      name: "compacted",
      columns: [
        { name: "id", type: "int64" },
        { name: "t", type: "timestamp" },
      ],
      primaryKey: ["id"],
      eventTime: "t",
      offlineRetentionMs: 7 * 86_400_000,
    });
    for (const id of [1, 2, 3]) await g.insert([{ id, t: day(id) }]);
    const res = await g.compact();
    expect(res.commitId).toBeGreaterThan(3n);
    expect(res.stats).toMatchObject({ filesBefore: 3n, filesAfter: 1n, rowsAfter: 3n });
    expect((await g.read()).numRows).toBe(3);
    await g.update({ offlineRetentionMs: 86_400_000 });
    expect((await project.getFeatureGroup("compacted")).definition.offlineRetention?.seconds).toBe(86_400n);
  });

  it("updates what may change on a version, and refuses a stale copy", async () => {
    const g = await project.getOrCreateFeatureGroup({ name: "described", columns: [{ name: "id", type: "int64" }], primaryKey: ["id"] });
    const stale = await project.getFeatureGroup("described");
    await g.update({ description: "customer ids", tags: ["pii"] });
    expect((await project.getFeatureGroup("described")).definition).toMatchObject({ description: "customer ids", tags: ["pii"] });
    const err = await stale.update({ description: "lost update" }).catch((e: unknown) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.Aborted);
  });

  it("fails with NOT_FOUND for a group that does not exist", async () => {
    const err = await project.getFeatureGroup("no_such_group").catch((e: unknown) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.NotFound);
  });
});

describe("feature views", () => {
  beforeAll(async () => {
    await transactions.insert([
      { tid: 10, cc_num: 1, amount: 50, category: "food", datetime: day(2), is_fraud: false },
      { tid: 11, cc_num: 1, amount: 500, category: "travel", datetime: day(4), is_fraud: true },
      { tid: 12, cc_num: 2, amount: 5, category: "food", datetime: day(4), is_fraud: false },
      { tid: 13, cc_num: 3, amount: 20, category: "food", datetime: day(4), is_fraud: false },
    ]);
    const query = transactions
      .select(["amount", "category", "is_fraud", "cc_num"])
      .join(cards.select(["count_7d", "spend_7d"]), { on: ["cc_num"], prefix: "card_" });
    view = await project.getOrCreateFeatureView({
      name: "fraud",
      query: query.filter(feature("amount").gt(1)),
      labels: ["is_fraud"],
      transformations: { amount: "min_max_scaler" },
      onDemand: [{ name: "big", type: "bool", expression: "amount > threshold", requestParameters: [{ name: "threshold", type: "double" }] }],
    });
  });

  it("computes point-in-time correct training data", async () => {
    const t = await view.trainingData({ untransformed: true });
    expect(t.numRows).toBe(4);
    // The join's prefix names every right-side column, as in Hopsworks.
    expect(t.schema.fields.map((f) => f.name)).toEqual(["amount", "category", "is_fraud", "cc_num", "card_count_7d", "card_spend_7d", "big"]);
    const rows = new Map(t.toArray().map((r) => [r.amount as number, r.toJSON()]));
    // tid 10 (day 2) sees the day-1 aggregates of card 1; tid 11 (day 4) sees the day-3 ones.
    expect(rows.get(50)?.["card_spend_7d"]).toBe(120.5);
    expect(rows.get(500)?.["card_spend_7d"]).toBe(300);
    // Card 3 has no aggregates: null, and the row is kept (left join).
    expect(rows.get(20)?.["card_spend_7d"]).toBeNull();
  });

  it("creates a reproducible train/test split and reads it back unchanged", async () => {
    const split = await view.trainTestSplit({ testSize: 0.5, seed: 7 });
    expect(split.version).toBeGreaterThanOrEqual(1);
    expect(split.train.numRows + split.test.numRows).toBe(4);
    const again = await view.getTrainTestSplit(split.version);
    expect(again.train.numRows).toBe(split.train.numRows);
    expect(again.train.getChild("amount")?.toArray()).toEqual(split.train.getChild("amount")?.toArray());
    // min_max_scaler with the training split's statistics: every value within [0, 1].
    for (const v of split.train.getChild("amount")!.toArray() as Float64Array) expect(v >= 0 && v <= 1).toBe(true);
    expect((await view.trainingDatasets()).map((d) => d.version)).toContain(split.version);
  });

  it("serves online feature vectors in the view's column order, nulls for missing keys", async () => {
    const vector = await view.getFeatureVector(
      { cc_num: 1 },
      { passedFeatures: { amount: 100, category: "food" }, requestParameters: { threshold: 60 }, untransformed: true },
    );
    expect(Object.keys(vector)).toEqual(view.columns.filter((c) => !view.labels.includes(c)));
    expect(vector["card_spend_7d"]).toBe(300);
    expect(vector["card_count_7d"]).toBe(5);
    expect(vector["big"]).toBe(true);

    const batch = await view.getFeatureVectorsWithStatus([{ cc_num: 2 }, { cc_num: 999 }], { untransformed: true });
    expect(batch.rows[0]?.["card_spend_7d"]).toBe(10);
    expect(batch.rows[1]?.["card_spend_7d"]).toBeNull();
    expect(batch.statuses[1]?.["card_spend_7d"]).toBe("NOT_FOUND");
  });

  it("names a missing serving key in its error", async () => {
    await expect(view.getFeatureVector({})).rejects.toThrow(/serving key "cc_num" is missing/);
    await expect(view.getFeatureVector({ cc_num: 1, card: 2 })).rejects.toThrow(/"card" is not a serving key/);
  });

  it("reads a request parameter from an unselected column of the label group", async () => {
    const v = await project.getOrCreateFeatureView({
      name: "param_from_root",
      query: transactions.select(["amount", "is_fraud"]),
      labels: ["is_fraud"],
      onDemand: [{ name: "card_one", type: "bool", expression: "cc_num == 1", requestParameters: [{ name: "cc_num", type: "int64" }] }],
    });
    const t = await v.trainingData({ start: day(1), end: day(5) });
    const byAmount = new Map(t.toArray().map((r) => [r.amount as number, r.card_one as boolean]));
    expect(Object.fromEntries(byAmount)).toEqual({ 50: true, 500: true, 5: false, 20: false });
    const latest = await v.getBatchData();
    expect(latest.numRows).toBe(4);
  });

  it("computes batch data for a time range", async () => {
    const t = await view.getBatchData({ start: day(4), end: day(5), untransformed: true });
    expect(t.numRows).toBe(3);
  });
});

describe("model registry", () => {
  it("registers a version with artifacts and lineage, moves an alias, and serves vectors through it", async () => {
    const mr = project.modelRegistry;
    const draft = await mr.createModel({
      name: "fraud_model",
      framework: "granary-logreg",
      metrics: { auc: 0.91 },
      schema: { inputs: [{ name: "amount", type: "double" }], outputs: [{ name: "is_fraud", type: "bool" }] },
      inputExample: [{ amount: 12.5 }],
      featureView: { name: view.name, version: view.version },
      trainingDatasetVersion: 1,
    });
    const ready = await draft.save({ "model.json": JSON.stringify({ w: [1, 2] }), "eval/report.txt": "ok" });
    await mr.setAlias("fraud_model", "production", ready.version);

    const prod = await mr.getModel("fraud_model", { alias: "production" });
    expect(prod.version).toBe(ready.version);
    expect(prod.metrics).toEqual({ auc: 0.91 });
    expect(prod.featureView).toEqual({ name: "fraud", version: 1 });
    const dir = mkdtempSync(join(tmpdir(), "granary-sdk-model-"));
    try {
      const files = await prod.download(dir);
      expect(files.map((f) => f.slice(dir.length + 1)).sort()).toEqual(["eval/report.txt", "model.json"]);
      expect(JSON.parse(readFileSync(join(dir, "model.json"), "utf8"))).toEqual({ w: [1, 2] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    const served = await project.getModelFeatureVectors("fraud_model", { alias: "production" }, [{ cc_num: 1 }], {
      passedFeatures: [{ amount: 100 }],
      requestParameters: [{ threshold: 1 }],
    });
    expect(served.modelVersion).toBe(ready.version);
    expect(served.featureView).toEqual({ name: "fraud", version: 1 });
    expect(served.rows[0]?.["card_spend_7d"]).toBe(300);

    // Upgrade: version 2 is trained on view version 2; moving the alias switches what is served.
    const v2 = await project.getOrCreateFeatureView({ name: "fraud", version: 2, query: cards.select(["spend_7d"]) });
    const next = await (await mr.createModel({ name: "fraud_model", featureView: { name: v2.name, version: v2.version } })).save({ "model.json": "{}" });
    await mr.setAlias("fraud_model", "production", next.version);
    // The online service refreshes its alias cache in the background: the move lands within about a second.
    const upgraded = await waitFor(
      async () => {
        const r = await project.getModelFeatureVectors("fraud_model", { alias: "production" }, [{ cc_num: 1 }]);
        return r.modelVersion === next.version ? r : undefined;
      },
      { what: "the alias move served", timeoutMs: 5000 },
    );
    expect(upgraded?.modelVersion).toBe(next.version);
    expect(upgraded?.featureView).toEqual({ name: "fraud", version: 2 });
    expect(upgraded?.rows[0]).toEqual({ spend_7d: 300 });
    // Rollback is the same call.
    await mr.setAlias("fraud_model", "production", ready.version);
    const rolledBack = await waitFor(
      async () => {
        const r = await project.getModelFeatureVectors("fraud_model", { alias: "production" }, [{ cc_num: 1 }], {
          passedFeatures: [{ amount: 1 }],
          requestParameters: [{ threshold: 1 }],
        });
        return r.modelVersion === ready.version ? r : undefined;
      },
      { what: "the rollback served", timeoutMs: 5000 },
    );
    expect(rolledBack?.featureView).toEqual({ name: "fraud", version: 1 });
    expect(rolledBack?.rows[0]?.["card_spend_7d"]).toBe(300);
  });

  it("refuses a model trained on a view that does not exist", async () => {
    const err = await project.modelRegistry
      .createModel({ name: "orphan", featureView: { name: "nope", version: 1 } })
      .catch((e: unknown) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.FailedPrecondition);
  });
});
