import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import * as arrow from "apache-arrow";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  columnsFrom,
  connect,
  feature,
  rules,
  typeName,
  validationReportOf,
  type FeatureGroup,
  type FeatureView,
  type Granary,
  type LineageGraph,
  type LineageNode,
  type Project,
} from "@granary/client";
import { startTestSuite } from "@granary/suite";
import { waitFor } from "@granary/testing";

// The SDK gaps of the review (issue 20), against a real suite: schemas inferred from Arrow tables,
// dictionary-encoded columns on insert and spines, statistics that may not exist, X/y splits,
// lineage, search, validation reports, and the one shape of passed features.
let stopSuite: () => Promise<void>;
let granary: Granary;
let project: Project;
let trans: FeatureGroup;
let merchants: FeatureGroup;
let fraud: FeatureView;

const day = (d: number, h = 0) => new Date(Date.UTC(2025, 0, d, h));
const rowsOf = (t: arrow.Table) => t.toArray().map((r) => r.toJSON() as Record<string, unknown>);
const key = (n: LineageNode) => `${n.kind}:${n.name}/${n.version}${n.datasetVersion ? `#${n.datasetVersion}` : ""}`;
const edgesOf = (g: LineageGraph) => g.edges.map((e) => `${key(e.from)} -> ${key(e.to)}`).sort();

// 40 transactions; fraud exactly when tid % 5 === 0, so a y row can be checked against its x row's tid.
const TIDS = Array.from({ length: 40 }, (_, i) => i + 1);
const MERCHANT_OF = (tid: number) => ["acme", "bolt", "crux"][tid % 3]!;
const transactions = () =>
  new arrow.Table({
    tid: arrow.vectorFromArray(
      TIDS.map((t) => BigInt(t)),
      new arrow.Int64(),
    ),
    // vectorFromArray makes strings dictionary-encoded by default, as pandas categoricals and Parquet do.
    merchant: arrow.vectorFromArray(TIDS.map(MERCHANT_OF)),
    amount: arrow.vectorFromArray(
      TIDS.map((t) => t * 10),
      new arrow.Float64(),
    ),
    datetime: arrow.vectorFromArray(
      TIDS.map((t) => day(1 + (t % 20), 1)),
      new arrow.TimestampMillisecond(),
    ),
    is_fraud: arrow.vectorFromArray(
      TIDS.map((t) => t % 5 === 0),
      new arrow.Bool(),
    ),
  });

beforeAll(async () => {
  const { suite, keys, stop } = await startTestSuite("sdk_review");
  stopSuite = stop;
  granary = connect({ addresses: suite.addresses, timeoutMs: 20_000, apiKey: keys.adminKey });
  await granary.waitUntilServing(30_000);
  project = await granary.project("review");
  const table = transactions();
  trans = await project.getOrCreateFeatureGroup({
    name: "transactions",
    description: "card transactions with a fraud label",
    tags: ["payments"],
    primaryKey: ["tid"],
    eventTime: "datetime",
    columns: columnsFrom(table, { primaryKey: ["tid"], eventTime: "datetime" }),
  });
  merchants = await project.getOrCreateFeatureGroup({
    name: "merchants",
    primaryKey: ["merchant"],
    eventTime: "ts",
    onlineEnabled: true,
    statistics: { enabled: true },
    validationRules: [rules.between("risk", { min: 0, max: 1 }, { policy: "warn" }), rules.notNull("risk", { policy: "fail", name: "risk_known" })],
    columns: [
      { name: "merchant", type: "string" },
      { name: "risk", type: "double" },
      { name: "ts", type: "timestamp" },
    ],
  });
}, 120_000);

afterAll(async () => {
  await stopSuite?.();
}, 60_000);

describe("a schema inferred from an Arrow table, and dictionary-encoded columns", () => {
  it("declares the group with the table's types, and the same table inserts as is", async () => {
    expect(trans.columns.map((c) => [c.name, typeName(c.type)])).toEqual([
      ["tid", "int64"],
      ["merchant", "string"],
      ["amount", "double"],
      ["datetime", "timestamp"],
      ["is_fraud", "bool"],
    ]);
    const table = transactions();
    expect(arrow.DataType.isDictionary(table.schema.fields[1]!.type)).toBe(true);
    const res = await trans.insert(table);
    expect(res.rowsInserted).toBe(40);
    const back = rowsOf(await trans.read({ filter: feature("tid").lt(4) })).sort((a, b) => Number(a["tid"]) - Number(b["tid"]));
    expect(back.map((r) => [Number(r["tid"]), r["merchant"], r["amount"]])).toEqual([
      [1, "bolt", 10],
      [2, "crux", 20],
      [3, "acme", 30],
    ]);
  });

  it("takes a dictionary-encoded key column in a spine (training and batch data)", async () => {
    await merchants.insert([
      { merchant: "acme", risk: 0.1, ts: day(1) },
      { merchant: "bolt", risk: 0.5, ts: day(1) },
      { merchant: "acme", risk: 0.3, ts: day(10) },
    ]);
    const view = await project.getOrCreateFeatureView({ name: "merchant_risk", query: merchants.select(["risk"]) });
    const spine = new arrow.Table({
      merchant: arrow.vectorFromArray(["acme", "acme", "bolt", "crux"]),
      ts: arrow.vectorFromArray([day(5), day(12), day(5), day(5)], new arrow.TimestampMillisecond()),
    });
    expect(arrow.DataType.isDictionary(spine.schema.fields[0]!.type)).toBe(true);
    // The results carry the features only: the sorted values show each spine row got its point-in-time value
    // (acme on day 5: 0.1, on day 12: 0.3; bolt 0.5; crux has no row).
    const risks = (t: arrow.Table) => [...t.getChild("risk")!].map((v) => (v === null ? "null" : String(v))).sort();
    const training = await view.trainingData({ spine });
    expect(risks(training)).toEqual(["0.1", "0.3", "0.5", "null"]);
    expect(risks(await view.getBatchData({ spine }))).toEqual(["0.1", "0.3", "0.5", "null"]);
  });
});

describe("row identity", () => {
  it("inserting the same (key, event time) replaces the row; a new event time adds one to history", async () => {
    const group = await project.getOrCreateFeatureGroup({
      name: "identity",
      primaryKey: ["id"],
      eventTime: "ts",
      columns: [
        { name: "id", type: "int64" },
        { name: "v", type: "double" },
        { name: "ts", type: "timestamp" },
      ],
    });
    await group.insert([{ id: 1, v: 1, ts: day(1) }]);
    const replaced = await group.insert([{ id: 1, v: 2, ts: day(1) }]);
    expect([replaced.rowsInserted, replaced.rowsUpdated]).toEqual([0, 1]);
    expect(rowsOf(await group.read()).map((r) => r["v"])).toEqual([2]);
    const added = await group.insert([{ id: 1, v: 3, ts: day(2) }]);
    expect([added.rowsInserted, added.rowsUpdated]).toEqual([1, 0]);
    expect(
      rowsOf(await group.read())
        .map((r) => r["v"])
        .sort(),
    ).toEqual([2, 3]);
  });
});

describe("statistics", () => {
  it("are undefined for a group that has none, and there once computed", async () => {
    expect(await trans.statistics()).toBeUndefined();
    const stats = await waitFor(async () => merchants.statistics(), { what: "the merchants' statistics", timeoutMs: 10_000 });
    expect(stats?.rowCount).toBe(3n);
    expect(stats?.columns.find((c) => c.column === "risk")?.max).toBeCloseTo(0.5);
  });
});

describe("validation reports", () => {
  it("lists each insert's report newest first, as plain values, refused inserts included", async () => {
    const warned = await merchants.insert([{ merchant: "crux", risk: 7, ts: day(2) }]);
    expect(warned.validationReport?.success).toBe(false);
    const refused = await merchants.insert([{ merchant: "dyne", risk: null, ts: day(2) }]).catch((e: unknown) => e);
    expect(ConnectError.from(refused).code).toBe(Code.FailedPrecondition);
    const refusedId = validationReportOf(refused)?.id;

    const reports = await merchants.validationReports();
    expect(reports.map((r) => r.id).slice(0, 2)).toEqual([refusedId, warned.validationReport!.id]);
    const [last, previous] = reports;
    expect([last!.ingested, last!.commitId, last!.success]).toEqual([false, undefined, false]);
    expect(last!.results.find((r) => r.rule === "risk_known")).toMatchObject({ policy: "fail", success: false, evaluatedCount: 1, unexpectedCount: 1 });
    expect(previous!.commitId).toBe(warned.commitId);
    expect(previous!.ingested).toBe(true);
    const between = previous!.results.find((r) => r.rule === "risk_between")!;
    expect([between.policy, between.success, between.unexpectedCount]).toEqual(["warn", false, 1]);
    expect(between.unexpectedExamples).toHaveLength(1);
    expect(previous!.createTime).toBeInstanceOf(Date);
    expect(await merchants.validationReports({ limit: 1 })).toHaveLength(1);
    expect(await trans.validationReports()).toEqual([]);
  });
});

describe("X/y splits", () => {
  beforeAll(async () => {
    fraud = await project.getOrCreateFeatureView({
      name: "fraud",
      description: "fraud model inputs",
      query: trans.select(["tid", "amount", "is_fraud"]),
      labels: ["is_fraud"],
    });
  });

  it("trainTestSplit returns x and y apart, row for row, with the view's labels in y", async () => {
    expect(fraud.labels).toEqual(["is_fraud"]);
    const split = await fraud.trainTestSplit({ testSize: 0.25, seed: 7 });
    expect(split.xTrain.schema.fields.map((f) => f.name)).toEqual(["tid", "amount"]);
    expect(split.yTrain.schema.fields.map((f) => f.name)).toEqual(["is_fraud"]);
    expect(split.xTrain.numRows + split.xTest.numRows).toBe(40);
    expect([split.xTrain.numRows, split.xTest.numRows]).toEqual([split.yTrain.numRows, split.yTest.numRows]);
    expect(split.xTest.numRows).toBeGreaterThan(0);
    for (const [x, y] of [
      [split.xTrain, split.yTrain],
      [split.xTest, split.yTest],
    ] as const) {
      const tids = x.getChild("tid")!.toArray() as BigInt64Array;
      const labels = y.getChild("is_fraud")!.toArray() as boolean[];
      expect([...labels]).toEqual([...tids].map((t) => Number(t) % 5 === 0));
      expect([...(x.getChild("amount")!.toArray() as Float64Array)]).toEqual([...tids].map((t) => Number(t) * 10));
    }
    const again = await fraud.getTrainTestSplit(split.version);
    expect([...(again.yTest.getChild("is_fraud")!.toArray() as boolean[])]).toEqual([...(split.yTest.getChild("is_fraud")!.toArray() as boolean[])]);
  });

  it("trainValidationTestSplit gives validation x and y too", async () => {
    const split = await fraud.trainValidationTestSplit({ validationSize: 0.25, testSize: 0.25, seed: 3 });
    expect(split.xTrain.numRows + split.xValidation.numRows + split.xTest.numRows).toBe(40);
    expect(split.yValidation.numRows).toBe(split.xValidation.numRows);
    expect(split.xValidation.schema.fields.map((f) => f.name)).toEqual(["tid", "amount"]);
  });
});

describe("lineage and search", () => {
  it("follows group → view → dataset → model version, both ways", async () => {
    const datasets = await fraud.trainingDatasets();
    const version = datasets[0]!.version;
    const draft = await project.modelRegistry.createModel({
      name: "fraud_lr",
      description: "logistic regression on fraud",
      featureView: { name: "fraud", version: 1 },
      trainingDatasetVersion: version,
    });
    const model = await draft.save({ "model.json": "{}" });

    const down = await trans.lineage({ direction: "downstream" });
    expect(down.nodes[0]).toEqual({ kind: "featureGroup", name: "transactions", version: 1 });
    expect(edgesOf(down)).toEqual(
      [
        "featureGroup:transactions/1 -> featureView:fraud/1",
        ...datasets.map((d) => `featureView:fraud/1 -> trainingDataset:fraud/1#${d.version}`),
        `trainingDataset:fraud/1#${version} -> modelVersion:fraud_lr/${model.version}`,
      ].sort(),
    );

    const up = await model.lineage();
    expect(edgesOf(up)).toEqual(
      [
        "featureGroup:transactions/1 -> featureView:fraud/1",
        "featureView:fraud/1 -> trainingDataset:fraud/1#" + version,
        `trainingDataset:fraud/1#${version} -> modelVersion:fraud_lr/${model.version}`,
      ].sort(),
    );
    expect(up.nodes.find((n) => n.kind === "trainingDataset")).toEqual({ kind: "trainingDataset", name: "fraud", version: 1, datasetVersion: version });

    const near = await fraud.lineage({ depth: 1, direction: "upstream" });
    expect(edgesOf(near)).toEqual(["featureGroup:transactions/1 -> featureView:fraud/1"]);
    const ofDataset = await fraud.lineage({ trainingDatasetVersion: version, direction: "downstream" });
    expect(edgesOf(ofDataset)).toEqual([`trainingDataset:fraud/1#${version} -> modelVersion:fraud_lr/${model.version}`]);
  });

  it("searches names by prefix and descriptions by words, best first, as plain results", async () => {
    const byName = await project.search("fraud");
    expect(byName[0]).toEqual({ kind: "featureView", name: "fraud", version: 1, description: "fraud model inputs", tags: [], score: 3 });
    expect(byName.map((r) => `${r.kind}:${r.name}:${r.score}`)).toContain("model:fraud_lr:2");
    expect(byName.map((r) => r.name)).toContain("transactions"); // by the word "fraud" of its description
    expect((await project.search("fraud", { kinds: ["model"] })).map((r) => r.name)).toEqual(["fraud_lr"]);
    expect((await project.search("", { tags: ["payments"] })).map((r) => r.name)).toEqual(["transactions"]);
    expect(await project.search("", { limit: 2 })).toHaveLength(2);
    expect(await project.search("zzz")).toEqual([]);
  });
});

describe("passed features: one object for one entry, an array of one object per entry for many", () => {
  let view: FeatureView;
  beforeAll(async () => {
    view = await project.getOrCreateFeatureView({
      name: "merchant_online",
      query: merchants.select(["risk"]),
      onDemand: [{ name: "risky", type: "bool", expression: "risk > limit", requestParameters: [{ name: "limit", type: "double" }] }],
    });
    await waitFor(async () => ((await view.getFeatureVector({ merchant: "bolt" }, { requestParameters: { limit: 1 } }))["risk"] === 0.5 ? true : undefined), {
      what: "bolt online",
      timeoutMs: 10_000,
    });
  });

  it("getFeatureVector takes objects; the passed value wins over the stored one", async () => {
    expect(await view.getFeatureVector({ merchant: "bolt" }, { passedFeatures: { risk: 0.9 }, requestParameters: { limit: 0.6 } })).toEqual({
      risk: 0.9,
      risky: true,
    });
  });

  it("getFeatureVectors takes one object per entry, in the entries' order", async () => {
    const rows = await view.getFeatureVectors([{ merchant: "bolt" }, { merchant: "acme" }], {
      passedFeatures: [{ risk: 0.2 }, { risk: 0.8 }],
      requestParameters: [{ limit: 0.1 }, { limit: 0.9 }],
    });
    expect(rows).toEqual([
      { risk: 0.2, risky: true },
      { risk: 0.8, risky: false },
    ]);
  });

  it("an entry with nothing passed takes undefined; a feature passed for some entries is null for the others (not read from the store)", async () => {
    const rows = await view.getFeatureVectors([{ merchant: "bolt" }, { merchant: "acme" }], {
      passedFeatures: [{ risk: 0.2 }, undefined],
      requestParameters: [{ limit: 0.1 }, { limit: 0.1 }],
    });
    expect(rows).toEqual([
      { risk: 0.2, risky: true },
      { risk: null, risky: null },
    ]);
  });

  it("refuses the other shape with a message saying which one to use", async () => {
    await expect(view.getFeatureVector({ merchant: "bolt" }, { passedFeatures: [{ risk: 1 }] as never })).rejects.toThrow(
      "passedFeatures of getFeatureVector is one object, as the entry is",
    );
    await expect(view.getFeatureVectors([{ merchant: "bolt" }], { requestParameters: { limit: 1 } as never })).rejects.toThrow(
      "requestParameters of a batch lookup is an array with one object per entry",
    );
    await expect(view.getFeatureVectors([{ merchant: "bolt" }, { merchant: "acme" }], { passedFeatures: [{ risk: 1 }] })).rejects.toThrow(
      "passedFeatures has 1 objects for 2 entries",
    );
  });
});
