import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { connect, type Granary, type Project } from "@granary/client";
import { startTestSuite } from "@granary/suite";
import { readPredictions } from "../../examples/air-quality/batch-inference-pipeline.js";
import { dayIndex, generateAirQualityData } from "../../examples/air-quality/data.js";
import { createFeatureGroups } from "../../examples/air-quality/feature-pipeline.js";
import { modelFromJson, predictAll } from "../../examples/air-quality/linear-regression.js";
import { runAirQualityDemo, SMALL_SIZE, type AirQualityDemoSummary } from "../../examples/air-quality/main.js";
import { columnValues, featureMatrix, stringValues } from "../../examples/air-quality/tables.js";

// The air-quality demo end to end at its CI size, on the whole suite (four services, PostgreSQL,
// LMDB, Parquet) on free ports; then its results are checked through the SDK and against the
// generator's own numbers.
const size = SMALL_SIZE;
const data = generateAirQualityData(size);
const firstBatchDay = size.days - size.batchDays;
let stopSuite: (() => Promise<void>) | undefined;
let granary: Granary;
let project: Project;
let summary: AirQualityDemoSummary;
const log: string[] = [];

beforeAll(async () => {
  const { suite, keys, stop } = await startTestSuite("demo_aq");
  stopSuite = stop;
  granary = connect({ addresses: suite.addresses, apiKey: keys.adminKey, timeoutMs: 20_000 });
  await granary.waitUntilServing(30_000);
  summary = await runAirQualityDemo({ granary, size, project: "aq_e2e", log: (line) => log.push(line) });
  project = await granary.project("aq_e2e");
}, 120_000);

afterAll(async () => {
  await stopSuite?.();
}, 60_000);

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe("the air-quality demo", () => {
  it("backfills the history and adds every simulated day through the daily pipeline", () => {
    expect(summary.ingested.backfill).toEqual({ airQuality: size.cities * firstBatchDay, weather: size.cities * firstBatchDay });
    // Morning row, then the evening reading updates it: two writes per city and day; one forecast.
    expect(summary.ingested.daily).toEqual({ airQuality: 2 * size.cities * size.batchDays, weather: size.cities * size.batchDays });
    expect(summary.rows).toEqual({ air_quality: size.cities * size.days, weather: size.cities * size.days, aq_predictions: size.cities * size.batchDays });
    expect(log.some((l) => l.includes("hindcast"))).toBe(true);
  });

  it("trains a regression that beats yesterday's value and the mean on the later test days", () => {
    const { metrics, baselines, trainRows, testRows, features } = summary.training;
    expect(trainRows).toBeGreaterThan(testRows);
    expect(testRows).toBeGreaterThan(0);
    expect(metrics.n).toBe(testRows);
    expect(metrics.rmse).toBeLessThan(baselines.yesterday.rmse);
    expect(metrics.rmse).toBeLessThan(baselines.mean.rmse / 2);
    expect(metrics.r2).toBeGreaterThan(0.6);
    expect(features).toEqual([
      "pm25_lag_1d",
      "pm25_rolling_3d",
      "pm25_rolling_7d",
      "temperature",
      "precipitation",
      "wind_speed",
      "wind_dir_sin",
      "wind_dir_cos",
    ]);
  });

  it("registers the version with metrics, schema, input example, lineage, its artifact and alias production", async () => {
    const prod = await project.modelRegistry.getModel("air_quality_linear", { alias: "production" });
    expect(prod.version).toBe(summary.model.version);
    expect(summary.model.promoted).toBe(true);
    expect(prod.featureView).toEqual({ name: "air_quality_fv", version: 1 });
    expect(prod.trainingDatasetVersion).toBe(summary.training.trainingDatasetVersion);
    expect(prod.metrics["rmse"]).toBeCloseTo(summary.training.metrics.rmse, 9);
    expect(prod.metrics["baseline_yesterday_rmse"]).toBeCloseTo(summary.training.baselines.yesterday.rmse, 9);
    expect(prod.message.schema?.inputs.map((c) => c.name)).toEqual(summary.training.features);
    expect(prod.message.schema?.outputs.map((c) => c.name)).toEqual(["pm25"]);
    expect(prod.message.inputExample?.rowCount).toBe(3);
    expect((await prod.artifacts()).map((a) => a.path).sort()).toEqual(["evaluation.json", "model.json"]);
    const model = modelFromJson(new TextDecoder().decode(await prod.read("model.json")));
    expect(model.featureNames).toEqual(summary.training.features);
  });

  it("predicts every city on each batch day and writes the predictions to the monitoring group", async () => {
    expect(summary.predictionsWritten).toBe(size.cities * size.batchDays);
    const perDay = new Map<string, Set<string>>();
    for (const p of summary.predictions) perDay.set(p.date, (perDay.get(p.date) ?? new Set()).add(p.city));
    expect(perDay.size).toBe(size.batchDays);
    for (const cities of perDay.values()) expect([...cities].sort()).toEqual(data.series.map((s) => s.city.name).sort());

    const stored = await readPredictions(await createFeatureGroups(project), firstBatchDay, size.days);
    expect(stored).toHaveLength(summary.predictions.length);
    const byKey = new Map(stored.map((r) => [`${r.city}/${r.date}`, r]));
    for (const p of summary.predictions) {
      const row = byKey.get(`${p.city}/${p.date}`)!;
      expect(row.predicted).toBeCloseTo(p.predicted, 9);
      expect(row.modelVersion).toBe(summary.model.version);
      // The hindcast wrote the sensor's reading next to the prediction.
      const series = data.series.find((s) => s.city.name === p.city)!;
      expect(row.actual).toBe(series.pm25[dayIndex(Date.parse(p.date))]);
    }
  });

  it("logs each day's vectors and predictions through the feature view, with the model version and the prediction time", async () => {
    const view = await project.getFeatureView(summary.model.featureView.name, summary.model.featureView.version);
    const dayMs = 86_400_000;
    const from = Date.parse(summary.batchDates.from);
    const logs = await view.readLog({ start: new Date(from), end: new Date(Date.parse(summary.batchDates.to)) });
    expect(logs.numRows).toBe(size.cities * size.batchDays);
    const cities = stringValues(logs, "city");
    const dates = columnValues(logs, "date");
    const predicted = columnValues(logs, "predicted_pm25");
    const times = columnValues(logs, "log_time");
    const versions = columnValues(logs, "model_version");
    const datasets = columnValues(logs, "training_dataset_version");
    const made = new Map(summary.predictions.map((p) => [`${p.city}/${p.date}`, p.predicted]));
    for (let i = 0; i < logs.numRows; i++) {
      const date = new Date(dates[i]!).toISOString().slice(0, 10);
      expect(predicted[i]).toBeCloseTo(made.get(`${cities[i]}/${date}`)!, 9);
      // Logged at the prediction time: 06:00 of the predicted day.
      expect(times[i]).toBe(Date.parse(date) + dayMs / 4);
      expect(versions[i]).toBe(summary.model.version);
      expect(datasets[i]).toBe(summary.model.trainingDatasetVersion);
    }
    // Features as stored (the lag is yesterday's reading) and as the model received them (standard-scaled).
    const lag = columnValues(logs, "pm25_lag_1d");
    const scaled = columnValues(logs, "pm25_lag_1d_transformed");
    for (let i = 0; i < logs.numRows; i++) {
      const series = data.series.find((s) => s.city.name === cities[i])!;
      expect(lag[i]).toBe(series.pm25[dayIndex(dates[i]!) - 1] ?? null);
      expect(scaled[i]).not.toBeNull();
      expect(scaled[i]).not.toBeCloseTo(lag[i]!, 3);
    }
  });

  it("reports a hindcast consistent with the predictions and the generator's readings", () => {
    const h = summary.hindcast;
    expect(h.pending).toBe(0);
    expect(h.rows).toHaveLength(size.cities * size.batchDays);
    const actualOf = (city: string, date: string) => data.series.find((s) => s.city.name === city)!.pm25[dayIndex(Date.parse(date))]!;
    const errors = summary.predictions.map((p) => Math.abs(p.predicted - actualOf(p.city, p.date)));
    expect(Number.isFinite(h.mae)).toBe(true);
    expect(h.mae).toBeCloseTo(mean(errors), 9);
    expect(h.days.map((d) => d.date)).toEqual([...new Set(summary.predictions.map((p) => p.date))].sort());
    for (const d of h.days) {
      const ofDay = summary.predictions.filter((p) => p.date === d.date);
      expect(d.n).toBe(size.cities);
      expect(d.mae).toBeCloseTo(mean(ofDay.map((p) => Math.abs(p.predicted - actualOf(p.city, p.date)))), 9);
      // The naive forecast is yesterday's reading.
      expect(d.naiveMae).toBeCloseTo(
        mean(ofDay.map((p) => Math.abs(actualOf(p.city, p.date) - data.series.find((s) => s.city.name === p.city)!.pm25[dayIndex(Date.parse(p.date)) - 1]!))),
        9,
      );
    }
    // Off by less than the spread of the readings themselves.
    const actuals = h.rows.map((r) => r.actual);
    expect(h.mae).toBeLessThan(Math.max(...actuals) - Math.min(...actuals));
  });

  it("served the batch pipeline the morning's features, point-in-time, and the model reproduces its predictions from them", async () => {
    const view = await project.getFeatureView("air_quality_fv", 1);
    const day = firstBatchDay;
    const date = new Date(Date.parse(summary.batchDates.from));
    const next = new Date(date.getTime() + 86_400_000);
    const raw = await view.getBatchData({ start: date, end: next, untransformed: true, includeInferenceHelpers: true });
    expect(raw.numRows).toBe(size.cities);
    const cities = stringValues(raw, "city");
    const lag = columnValues(raw, "pm25_lag_1d");
    const temperature = columnValues(raw, "temperature");
    cities.forEach((city, i) => {
      const s = data.series.find((x) => x.city.name === city)!;
      expect(lag[i]).toBe(s.pm25[day - 1]);
      // The weather of a predicted day is the morning's forecast, not the later observation.
      expect(temperature[i]).toBe(s.forecast[day]!.temperature);
    });
    // Transformed with the statistics of the model's training dataset, the same features give the same predictions.
    const prod = await project.modelRegistry.getModel("air_quality_linear", { alias: "production" });
    const model = modelFromJson(new TextDecoder().decode(await prod.read("model.json")));
    const batch = await view.getBatchData({ start: date, end: next, trainingDatasetVersion: prod.trainingDatasetVersion, includeInferenceHelpers: true });
    const again = predictAll(model, featureMatrix(batch, model.featureNames, { fill: 0 }).x);
    stringValues(batch, "city").forEach((city, i) => {
      const made = summary.predictions.find((p) => p.city === city && p.date === summary.batchDates.from)!;
      expect(Math.max(0, Math.round(again[i]! * 100) / 100)).toBeCloseTo(made.predicted, 9);
    });
  });
});
