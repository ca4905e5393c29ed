import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { connect, tableFromRows, type Granary, type Project } from "@granary/client";
import { startTestSuite } from "@granary/suite";
import { generateFraudData, type Transaction } from "../../examples/fraud/data.js";
import { MODEL_INPUTS, VIEW_NAME } from "../../examples/fraud/fraud-view.js";
import { runFraudDemo, SHIFTED_TRANSACTIONS, SMALL_SIZE, type FraudDemoSummary } from "../../examples/fraud/main.js";
import { compareRows } from "../../examples/fraud/skew-check.js";
import { tableRows } from "../../examples/fraud/table-rows.js";
import { MODEL_NAME, PRODUCTION } from "../../examples/fraud/training-pipeline.js";

// The credit-card fraud demo (examples/fraud) end to end against the whole suite, CI-sized.
const data = generateFraudData(SMALL_SIZE);
let stopSuite: (() => Promise<void>) | undefined;
let granary: Granary;
let project: Project;
let summary: FraudDemoSummary;
const log: string[] = [];

beforeAll(async () => {
  const { suite, keys, stop } = await startTestSuite("demo_fraud");
  stopSuite = stop;
  granary = connect({ addresses: suite.addresses, apiKey: keys.adminKey, timeoutMs: 20_000 });
  await granary.waitUntilServing(30_000);
  summary = await runFraudDemo({ granary, size: SMALL_SIZE, log: (line) => log.push(line) });
  project = await granary.project(summary.project, { create: false });
}, 120_000);

afterAll(async () => {
  await stopSuite?.();
}, 60_000);

describe("the fraud demo", () => {
  it("ingests every group of the snowflake", () => {
    expect(summary.rows).toEqual({
      banks: data.banks.length,
      accounts: data.accounts.length,
      cards: data.cards.length,
      merchants: data.merchants.length,
      transactions: data.transactions.length,
      aggregates: data.transactions.length,
    });
    expect(summary.training.trainRows + summary.training.testRows).toBe(data.transactions.length);
  });

  it("trains a model that beats a trivial baseline on the test split", () => {
    const m = summary.training.metrics;
    expect(summary.training.baseline.auc).toBe(0.5);
    expect(m.auc).toBeGreaterThan(0.7);
    expect(m.recall).toBeGreaterThan(0);
    expect(m.precision).toBeGreaterThan(summary.training.fraudShare);
  });

  it("registers the version with metrics, signature, input example, lineage and alias production", async () => {
    const registry = project.modelRegistry;
    expect((await registry.model(MODEL_NAME)).aliases).toMatchObject({ [PRODUCTION]: summary.model.version });
    const prod = await registry.getModel(MODEL_NAME, { alias: PRODUCTION });
    expect(prod.version).toBe(summary.model.version);
    expect(prod.message.aliases).toContain(PRODUCTION);
    expect(prod.featureView).toEqual(summary.training.view);
    expect(prod.featureView?.name).toBe(VIEW_NAME);
    expect(prod.trainingDatasetVersion).toBe(summary.training.trainingDatasetVersion);
    expect(prod.metrics["auc"]).toBeCloseTo(summary.training.metrics.auc, 12);
    expect(prod.message.schema?.inputs.map((c) => c.name)).toEqual([...MODEL_INPUTS]);
    expect(prod.message.schema?.outputs.map((c) => c.name)).toEqual(["fraud_probability"]);
    expect(prod.message.inputExample?.rowCount).toBe(3);
    const model = JSON.parse(new TextDecoder().decode(await prod.read("model.json"))) as { weights: number[]; inputs: { name: string }[] };
    expect(model.inputs.map((i) => i.name)).toEqual([...MODEL_INPUTS]);
    expect(model.weights).toHaveLength(MODEL_INPUTS.length);
  });

  it("scores the stream one at a time and in batches, with latency numbers", () => {
    const { scored, flagged, caught, fraudInStream, latency, modelVersion } = summary.inference;
    expect(modelVersion).toBe(summary.model.version);
    expect(scored).toBe(data.stream.length);
    expect(flagged).toBeLessThanOrEqual(scored);
    expect(caught).toBeLessThanOrEqual(Math.min(flagged, fraudInStream));
    for (const l of [latency.single, latency.batch]) {
      expect(l.calls).toBeGreaterThan(0);
      expect(l.p50Ms).toBeGreaterThan(0);
      expect(l.p99Ms).toBeGreaterThanOrEqual(l.p50Ms);
    }
    expect(latency.batch.transactionsPerCall).toBeGreaterThan(1);
    expect(log.join("\n")).toMatch(/latency one at a time p50 [\d.]+ ms {2}p99 [\d.]+ ms/);
  });

  it("scored every transaction with exactly the features the offline store computes for it (no skew)", () => {
    const skew = summary.inference.skew;
    expect(skew.rows).toBe(data.stream.length);
    expect(skew.columns).toBeGreaterThanOrEqual(MODEL_INPUTS.length);
    expect(skew.mismatches).toEqual([]);
    expect(skew.maxAbsDiff).toBeLessThan(1e-9);
  });

  it("logs every scored transaction with its prediction through the view, readable like any group", async () => {
    expect(summary.inference.logged).toBe(data.stream.length);
    const view = await project.getFeatureView(summary.training.view.name, summary.training.view.version);
    const drift = summary.inference.drift!;
    // The stream's logs: everything logged before the shifted day.
    const logs = tableRows(await view.readLog({ start: data.start, end: drift.day.start }));
    expect(logs).toHaveLength(data.stream.length);
    expect(logs.filter((r) => r["predicted_is_fraud"] === true)).toHaveLength(summary.inference.flagged);
    expect(new Set(logs.map((r) => r["model_version"]))).toEqual(new Set([summary.model.version]));
    expect(logs.map((r) => Number(r["cc_num"])).sort((a, b) => a - b)).toEqual(data.stream.map((t) => t.cc_num).sort((a, b) => a - b));
    // The untransformed amount is what was charged; the model's input is the min-max scaled one.
    const amounts = new Map(data.stream.map((t) => [`${t.cc_num}/${t.merchant_id}/${t.datetime.getTime()}`, t.amount]));
    for (const r of logs) {
      const key = `${Number(r["cc_num"])}/${Number(r["merchant_id"])}/${Number(r["request_datetime"])}`;
      expect(r["amount"]).toBeCloseTo(amounts.get(key)!, 9);
      expect(r["amount_transformed"]).not.toBe(r["amount"]);
    }
  });

  it("finds drift on the shifted day's amounts and categories against the training dataset, and none on the cards' own features", async () => {
    const drift = summary.inference.drift!;
    expect(drift.logged).toBe(SHIFTED_TRANSACTIONS);
    const { report } = drift;
    expect(report).toMatchObject({
      status: "drift",
      rowCount: SHIFTED_TRANSACTIONS,
      reference: { trainingDatasetVersion: summary.training.trainingDatasetVersion },
    });
    const status = Object.fromEntries(report.features.map((f) => [f.column, f.status]));
    expect(status).toMatchObject({ amount: "drift", category: "drift", card_account_credit_limit: "ok", card_account_bank_credit_rating: "ok" });
    const amount = report.features.find((f) => f.column === "amount")!;
    expect(amount.exceeded).toContain("psi");
    expect(amount.ks!).toBeGreaterThan(0.2);
    expect(report.features.find((f) => f.column === "category")!.categorical).toBe(true);
    // Stored, and printed by the demo.
    const view = await project.getFeatureView(summary.training.view.name, summary.training.view.version);
    expect((await view.monitoringReports({ limit: 1 }))[0]?.id).toBe(report.id);
    expect(log.join("\n")).toMatch(new RegExp(`drift report ${report.id}: DRIFT`));
    expect(log.join("\n")).toMatch(/amount\s+\d+\.\d{3}\s+\d\.\d{3}\s+\d+%\s+DRIFT/);
  });

  describe("a new transaction, online and offline", () => {
    // Cards that have history: what they do one hour after the stream ends.
    const last = data.stream.at(-1)!.datetime.getTime();
    const cards = [...new Set(data.transactions.map((t) => t.cc_num))].slice(0, 6);
    const probe = (at: Date): Transaction[] =>
      cards.map((cc_num, i) => {
        const m = data.merchants[(i * 7) % data.merchants.length]!;
        return { tid: 0, cc_num, merchant_id: m.merchant_id, amount: 25 + 40 * i, category: m.category, lat: m.lat, lon: m.lon, datetime: at, is_fraud: false };
      });

    async function vectors(txs: readonly Transaction[], offlineAt: (tx: Transaction) => Date) {
      const view = await project.getFeatureView(summary.training.view.name, summary.training.view.version);
      const online = await project.getModelFeatureVectors(
        MODEL_NAME,
        { alias: PRODUCTION },
        txs.map((t) => ({ cc_num: t.cc_num, merchant_id: t.merchant_id })),
        {
          passedFeatures: txs.map((t) => ({ amount: t.amount, category: t.category, lat: t.lat, lon: t.lon })),
          requestParameters: txs.map((t) => ({ datetime: t.datetime })),
        },
      );
      const transactions = await project.getFeatureGroup("cc_trans_fg");
      // A spine without tid: the transaction's own values come from the spine, like passed features.
      const spine = tableFromRows(
        transactions.columns,
        txs.map((t) => ({
          cc_num: t.cc_num,
          merchant_id: t.merchant_id,
          amount: t.amount,
          category: t.category,
          lat: t.lat,
          lon: t.lon,
          datetime: offlineAt(t),
        })),
      );
      const offline = tableRows(await view.getBatchData({ spine, trainingDatasetVersion: online.trainingDatasetVersion }));
      return { view, online: online.rows, offline };
    }

    it("gets the same vector from the online store and from a point-in-time spine at the same moment", async () => {
      const txs = probe(new Date(last + 3_600_000));
      const { view, online, offline } = await vectors(txs, (t) => t.datetime);
      // Every level of the snowflake and every on-demand feature is present online.
      for (const row of online) {
        for (const column of [
          "count_7d",
          "merchant_chargeback_rate",
          "card_expiry_date",
          "card_account_home_lat",
          "card_account_bank_credit_rating",
          "distance_from_prev_km",
          "hours_since_prev",
          "distance_from_home_km",
          "days_to_expiry",
        ]) {
          expect(row[column]).not.toBeNull();
        }
        expect(row["hours_since_prev"] as number).toBeGreaterThan(0);
      }
      const report = compareRows(online, offline, view.featureNames);
      expect(report.mismatches).toEqual([]);
      expect(report.maxAbsDiff).toBeLessThan(1e-9);
    });

    it("differs when the offline side is asked about an earlier moment (the check is not vacuous)", async () => {
      const txs = probe(new Date(last + 3_600_000));
      const { view, online, offline } = await vectors(txs, () => new Date(data.start.getTime() + 2 * 86_400_000));
      const report = compareRows(online, offline, view.featureNames);
      expect(report.mismatchCount).toBeGreaterThan(0);
      expect(report.mismatches.some((m) => m.column.startsWith("count_") || m.column === "hours_since_prev")).toBe(true);
    });
  });
});
