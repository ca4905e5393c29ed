import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type * as arrow from "apache-arrow";
import { connect, type FeatureGroup, type FeatureView, type Granary, type Project } from "@granary/client";
import { startTestSuite } from "@granary/suite";
import { waitFor } from "@granary/testing";

// The SDK's feature logging against a real suite: fv.enableLogging, fv.log (vectors as
// getFeatureVectors returns them, predictions as numbers or records), fv.readLog, fv.loggingGroup,
// and the online service logging what it serves.
let stopSuite: () => Promise<void>;
let granary: Granary;
let project: Project;
let trans: FeatureGroup;
let fraud: FeatureView;
const day = (d: number, h = 0) => new Date(Date.UTC(2025, 0, d, h));
const rowsOf = (t: arrow.Table) =>
  t.toArray().map((r) => JSON.parse(JSON.stringify(r.toJSON(), (_, v) => (typeof v === "bigint" ? Number(v) : v))) as Record<string, unknown>);

beforeAll(async () => {
  const { suite, keys, stop } = await startTestSuite("feature_logging_sdk");
  stopSuite = stop;
  granary = connect({ addresses: suite.addresses, timeoutMs: 20_000, apiKey: keys.adminKey });
  await granary.waitUntilServing(30_000);
  project = await granary.project("logs");
  trans = await project.getOrCreateFeatureGroup({
    name: "transactions",
    primaryKey: ["tid"],
    eventTime: "ts",
    onlineEnabled: true,
    columns: [
      { name: "tid", type: "int64" },
      { name: "amount", type: "double" },
      { name: "merchant", type: "string" },
      { name: "ts", type: "timestamp" },
      { name: "is_fraud", type: "bool" },
    ],
  });
  await trans.insert([
    { tid: 1n, amount: 10, merchant: "acme", ts: day(1), is_fraud: false },
    { tid: 2n, amount: 200, merchant: "bolt", ts: day(2), is_fraud: true },
  ]);
  fraud = await project.getOrCreateFeatureView({ name: "fraud", query: trans.select(["amount", "merchant", "is_fraud"]), labels: ["is_fraud"] });
}, 120_000);

afterAll(async () => {
  await stopSuite?.();
}, 60_000);

describe("fv.log / fv.readLog", () => {
  it("logs the vectors getFeatureVectors returned with their predictions, and reads them back", async () => {
    const entries = [{ tid: 1n }, { tid: 2n }];
    const vectors = await waitFor(
      async () => {
        const v = await fraud.getFeatureVectors(entries);
        return v.every((r) => r["amount"] !== null) ? v : undefined;
      },
      { timeoutMs: 10_000, what: "rows online" },
    );
    const logged = await fraud.log(
      vectors!.map((v, i) => ({ ...v, tid: entries[i]!.tid })),
      [{ is_fraud: false }, { is_fraud: true }],
      { model: "fraud_model", modelVersion: 2, logTime: day(20) },
    );
    expect(logged.loggedCount).toBe(2);
    expect(logged.loggingFeatureGroup).toEqual({ name: "fraud_1_logging", version: 1 });
    const rows = rowsOf(await fraud.readLog({ start: day(19), end: day(21) })).sort((a, b) => Number(a["amount"]) - Number(b["amount"]));
    expect(rows.map((r) => [r["tid"], r["amount"], r["merchant"], r["predicted_is_fraud"], r["model"], r["model_version"], r["source"]])).toEqual([
      [1, 10, "acme", false, "fraud_model", 2, "client"],
      [2, 200, "bolt", true, "fraud_model", 2, "client"],
    ]);
    expect(rowsOf(await fraud.readLog({ start: day(21) }))).toEqual([]);
    const group = await fraud.loggingGroup();
    expect(group.name).toBe("fraud_1_logging");
    expect(group.primaryKey).toEqual(["log_id"]);
  });

  it("refuses wrong shapes with TypeErrors before calling", async () => {
    await expect(fraud.log("nope" as never, [])).rejects.toThrow(TypeError);
    await expect(fraud.log([{ amount: 1 }], [1, 2])).rejects.toThrow(/one entry per vector/);
    await expect(fraud.log([{ nope: 1 }], [{ is_fraud: true }])).rejects.toThrow(/"nope" is not one of view/);
    await expect(fraud.log([{ amount: 1 }], [{ other: 1 }])).rejects.toThrow(/not a label/);
    await expect(fraud.enableLogging({ sampleRate: 2 })).rejects.toThrow(RangeError);
  });

  it("enableLogging({ online: true }) makes the online service log what it serves", async () => {
    await fraud.enableLogging({ online: true, sampleRate: 1 });
    expect(fraud.definition.logging?.onlineEnabled).toBe(true);
    // Without options the settings stay as they are.
    await fraud.enableLogging();
    expect(fraud.definition.logging).toMatchObject({ onlineEnabled: true, sampleRate: 1 });
    await waitFor(
      async () => {
        await fraud.getFeatureVectors([{ tid: 1n }]);
        const rows = rowsOf(await fraud.readLog());
        return rows.some((r) => r["source"] === "online" && r["tid"] === 1 && r["amount"] === 10);
      },
      { timeoutMs: 20_000, what: "a served vector in the logs" },
    );
  });
});
