// CheckConsistency with a model, against the whole suite (the online service resolves models from
// the registry): both sides go through the model's transformations, fitted on its training dataset.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { connect, type FeatureView, type Granary } from "@granary/client";
import { startTestSuite } from "@granary/suite";
import { waitFor } from "@granary/testing";

const P = "consistency_model";
const NOW = Date.now();
let stopSuite: (() => Promise<void>) | undefined;
let granary: Granary;
let view: FeatureView;
let modelVersion: number;
let datasetVersion: number;

beforeAll(async () => {
  const { suite, keys, stop } = await startTestSuite("consistency_model");
  stopSuite = stop;
  granary = connect({ addresses: suite.addresses, apiKey: keys.adminKey, timeoutMs: 20_000, env: {} });
  await granary.waitUntilServing(30_000);
  const project = await granary.project(P);
  const cards = await project.getOrCreateFeatureGroup({
    name: "cards",
    columns: [
      { name: "cc_num", type: "int64" },
      { name: "ts", type: "timestamp" },
      { name: "avg_amount", type: "double" },
      { name: "n_tx", type: "int64" },
    ],
    primaryKey: ["cc_num"],
    eventTime: "ts",
    onlineEnabled: true,
  });
  // avg_amount spans 0..100: the min-max scaler maps card c to c / 100.
  await cards.insert(Array.from({ length: 101 }, (_, c) => ({ cc_num: c, ts: new Date(NOW - 3_600_000), avg_amount: c, n_tx: c * 2 })));
  view = await project.getOrCreateFeatureView({
    name: "cards_fv",
    query: cards.select(["avg_amount", "n_tx"]),
    transformations: { avg_amount: "min_max_scaler" },
  });
  await waitFor(async () => ((await view.getFeatureVector({ cc_num: 100 }, { untransformed: true }))["n_tx"] === 200 ? true : undefined), {
    timeoutMs: 20_000,
    what: "rows online",
  });
  datasetVersion = (await view.createTrainingDataset()).version;
  const draft = await project.modelRegistry.createModel({
    name: "card_model",
    featureView: { name: view.name, version: view.version },
    trainingDatasetVersion: datasetVersion,
  });
  modelVersion = (await draft.save({ "model.json": "{}" })).version;
  await project.modelRegistry.setAlias("card_model", "production", modelVersion);
}, 120_000);

afterAll(async () => {
  await stopSuite?.();
}, 60_000);

describe("CheckConsistency with a model", () => {
  it("compares transformed values: consistent, then an online-only row shows scaled on both sides", async () => {
    const clean = await view.checkConsistency({ sample: 101, model: { name: "card_model", version: modelVersion } });
    expect(clean).toMatchObject({ consistent: true, entitiesCompared: 101, modelVersion, trainingDatasetVersion: datasetVersion });

    await granary.services.online.writeRows({
      project: P,
      featureGroup: { name: "cards", version: 1 },
      rows: {
        case: "columns",
        value: {
          rowCount: 1,
          columns: [
            { name: "cc_num", data: { values: { case: "int64s", value: { values: [10n] } }, nullIndexes: [] } },
            { name: "ts", data: { values: { case: "timestamps", value: { values: [BigInt(NOW - 60_000) * 1000n] } }, nullIndexes: [] } },
            { name: "avg_amount", data: { values: { case: "doubles", value: { values: [50] } }, nullIndexes: [] } },
            { name: "n_tx", data: { values: { case: "int64s", value: { values: [20n] } }, nullIndexes: [] } },
          ],
        },
      },
    });
    const skewed = await view.checkConsistency({ entities: [{ cc_num: 10 }], model: { name: "card_model", alias: "production" } });
    expect(skewed.consistent).toBe(false);
    const avg = skewed.features.find((f) => f.name === "avg_amount")!;
    expect(avg.mismatches).toBe(1);
    expect(avg.examples[0]!.online as number).toBeCloseTo(0.5, 12);
    expect(avg.examples[0]!.offline as number).toBeCloseTo(0.1, 12);
    expect(skewed.features.find((f) => f.name === "n_tx")!.mismatches).toBe(0);
    await expect(view.checkConsistency({ entities: [{ cc_num: 10 }], model: { name: "card_model" } })).rejects.toThrow(/give the version or an alias/);
    // Untransformed, the raw values differ.
    const raw = await view.checkConsistency({ entities: [{ cc_num: 10 }] });
    expect(raw.features.find((f) => f.name === "avg_amount")!.examples[0]).toMatchObject({ online: 50, offline: 10 });
  }, 60_000);
});
