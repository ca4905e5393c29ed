// The batch inference pipeline (book ch. 3): fetch the production model from the registry, read
// a day's features from its feature view — transformed with the statistics of the training
// dataset the model was trained on — predict PM2.5 per city, and write the predictions to the
// monitoring group. The hindcast later joins those predictions with the readings that arrived.
import { feature, type FeatureView, type Project, type Row } from "@granary/client";
import type * as arrow from "apache-arrow";
import { dateOf, dayIndex, DAY_MS, isoDay } from "./data.js";
import type { AirQualityGroups } from "./feature-pipeline.js";
import { modelFromJson, predictAll, type LinearModel } from "./linear-regression.js";
import { regressionMetrics } from "./regression-metrics.js";
import { columnValues, featureMatrix, stringValues } from "./tables.js";
import { LABEL, MODEL_NAME, PRODUCTION } from "./training-pipeline.js";

export interface ProductionModel {
  readonly name: string;
  readonly version: number;
  readonly model: LinearModel;
  /** The feature-view version the model was trained on (its lineage), not simply the latest. */
  readonly view: FeatureView;
  readonly trainingDatasetVersion: number;
}

/** The version alias production points at, its model.json, and the feature view of its lineage. */
export async function loadProductionModel(project: Project): Promise<ProductionModel> {
  const handle = await project.modelRegistry.getModel(MODEL_NAME, { alias: PRODUCTION });
  const lineage = handle.featureView;
  if (!lineage) throw new Error(`${MODEL_NAME} v${handle.version} names no feature view: it cannot be fed from the feature store`);
  const [bytes, view] = await Promise.all([handle.read("model.json"), project.getFeatureView(lineage.name, lineage.version)]);
  const model = modelFromJson(new TextDecoder().decode(bytes));
  const expected = view.featureNames.join(",");
  if (model.featureNames.join(",") !== expected) {
    throw new Error(
      `${MODEL_NAME} v${handle.version} takes ${model.featureNames.join(", ")} but ${view.name} v${view.version} gives ${view.featureNames.join(", ")}`,
    );
  }
  return { name: MODEL_NAME, version: handle.version, model, view, trainingDatasetVersion: handle.trainingDatasetVersion };
}

export interface Prediction {
  readonly city: string;
  /** "2024-12-25" */
  readonly date: string;
  readonly predicted: number;
}

/**
 * Predicts PM2.5 of every city for `date` from the view's batch data of that day and writes the
 * predictions to the monitoring group (actual_pm25 still null).
 */
export async function predictDay(production: ProductionModel, groups: AirQualityGroups, date: Date, predictionTime: Date): Promise<Prediction[]> {
  const day = { start: date, end: new Date(date.getTime() + DAY_MS), trainingDatasetVersion: production.trainingDatasetVersion, includeInferenceHelpers: true };
  // The model's inputs (standard-scaled), and the same rows as they are stored, for the logs.
  const [batch, raw] = await Promise.all([production.view.getBatchData(day), production.view.getBatchData({ ...day, untransformed: true })]);
  if (batch.numRows === 0) return [];
  // A missing feature gets the training mean, which standard scaling has made 0.
  const { x } = featureMatrix(batch, production.model.featureNames, { fill: 0 });
  const cities = stringValues(batch, "city");
  const dates = columnValues(batch, "date");
  const predictions = predictAll(production.model, x).map((y, i) => ({ city: cities[i]!, date: isoDay(dates[i]!), predicted: Math.max(0, round(y)) }));
  await groups.predictions.insert(
    predictions.map((p) => ({
      city: p.city,
      date,
      predicted_pm25: p.predicted,
      actual_pm25: null,
      model_version: production.version,
      prediction_time: predictionTime,
    })),
  );
  await logPredictions(production, raw, batch, predictions, predictionTime);
  return predictions;
}

/**
 * Logs the day's vectors and predictions through the feature view (fv.log): the features as stored
 * and as the model received them, the predicted PM2.5 per city, the model version and the
 * training dataset whose statistics scaled them, at the prediction time. The hindcast reads them back.
 */
async function logPredictions(
  production: ProductionModel,
  raw: arrow.Table,
  transformed: arrow.Table,
  predictions: readonly Prediction[],
  at: Date,
): Promise<void> {
  const features = production.model.featureNames;
  // Arrow gives dates as epoch milliseconds; the SDK takes a date column's values as Dates.
  const rawRows = raw.toArray().map((r): Row => {
    const row = r.toJSON() as Row;
    return { ...row, date: row["date"] === null || row["date"] === undefined ? null : new Date(Number(row["date"])) };
  });
  const byCity = new Map(transformed.toArray().map((r) => [String(r["city"]), r.toJSON() as Row]));
  await production.view.log(
    rawRows.map((r) => Object.fromEntries(["city", "date", ...features].map((f) => [f, r[f] ?? null]))),
    rawRows.map((r) => ({ [LABEL]: predictions.find((p) => p.city === String(r["city"]))?.predicted ?? null })),
    {
      model: production.name,
      modelVersion: production.version,
      trainingDatasetVersion: production.trainingDatasetVersion,
      transformed: rawRows.map((r) => Object.fromEntries(features.map((f) => [f, byCity.get(String(r["city"]))?.[f] ?? null]))),
      logTime: at,
    },
  );
}

export interface HindcastRow extends Prediction {
  readonly actual: number;
  /** Yesterday's reading: the naive forecast the model has to beat. */
  readonly naive: number | null;
}

export interface HindcastDay {
  readonly date: string;
  readonly n: number;
  readonly mae: number;
  readonly naiveMae: number;
}

export interface HindcastResult {
  readonly rows: readonly HindcastRow[];
  readonly days: readonly HindcastDay[];
  readonly mae: number;
  readonly rmse: number;
  readonly naiveMae: number;
  /** Predictions still without a reading (left out of the figures). */
  readonly pending: number;
}

/**
 * Reads the predictions logged for days [from, to) back from the view's logs (fv.readLog: one row
 * per city and day, logged at its prediction time), joins them with the readings in the air-quality
 * group, writes the actuals next to the predictions in the monitoring group, and scores them per day.
 */
export async function hindcast(groups: AirQualityGroups, view: FeatureView, from: Date, to: Date): Promise<HindcastResult> {
  const inRange = feature("date").ge(from).and(feature("date").lt(to));
  const [predicted, measured] = await Promise.all([
    view.readLog({ start: from, end: to }),
    groups.airQuality.read({ columns: ["city", "date", "pm25", "pm25_lag_1d"], filter: inRange.and(feature("pm25").isNotNull()) }),
  ]);
  const key = (city: string, date: number) => `${city}/${dayIndex(date)}`;
  const actuals = new Map<string, { actual: number; naive: number | null }>();
  {
    const cities = stringValues(measured, "city");
    const dates = columnValues(measured, "date");
    const pm25 = columnValues(measured, "pm25");
    const lag = columnValues(measured, "pm25_lag_1d");
    cities.forEach((c, i) => actuals.set(key(c, dates[i]!), { actual: pm25[i]!, naive: lag[i] ?? null }));
  }
  const cities = stringValues(predicted, "city");
  const dates = columnValues(predicted, "date");
  const values = columnValues(predicted, `predicted_${LABEL}`);
  const versions = columnValues(predicted, "model_version");
  const times = columnValues(predicted, "log_time");
  const rows: HindcastRow[] = [];
  const monitoring = [];
  let pending = 0;
  for (let i = 0; i < predicted.numRows; i++) {
    const a = actuals.get(key(cities[i]!, dates[i]!));
    if (!a) {
      pending++;
      continue;
    }
    rows.push({ city: cities[i]!, date: isoDay(dates[i]!), predicted: values[i]!, actual: a.actual, naive: a.naive });
    monitoring.push({
      city: cities[i]!,
      date: new Date(dates[i]!),
      predicted_pm25: values[i]!,
      actual_pm25: a.actual,
      model_version: versions[i]!,
      prediction_time: new Date(times[i]!),
    });
  }
  if (monitoring.length > 0) await groups.predictions.insert(monitoring);

  rows.sort((a, b) => a.date.localeCompare(b.date) || a.city.localeCompare(b.city));
  const byDay = new Map<string, HindcastRow[]>();
  for (const r of rows) byDay.set(r.date, [...(byDay.get(r.date) ?? []), r]);
  const days = [...byDay].map(([date, rs]) => ({ date, n: rs.length, mae: mean(rs.map((r) => Math.abs(r.predicted - r.actual))), naiveMae: naiveMae(rs) }));
  const all = regressionMetrics(
    rows.map((r) => r.actual),
    rows.map((r) => r.predicted),
  );
  return { rows, days, mae: all.mae, rmse: all.rmse, naiveMae: naiveMae(rows), pending };
}

/** The monitoring rows of days [from, to): what a dashboard would plot. */
export async function readPredictions(
  groups: AirQualityGroups,
  from: number,
  to: number,
): Promise<{ city: string; date: string; predicted: number; actual: number | null; modelVersion: number }[]> {
  const t = await groups.predictions.read({
    filter: feature("date")
      .ge(dateOf(from))
      .and(feature("date").lt(dateOf(to))),
  });
  const cities = stringValues(t, "city");
  const dates = columnValues(t, "date");
  const predicted = columnValues(t, "predicted_pm25");
  const actual = columnValues(t, "actual_pm25");
  const version = columnValues(t, "model_version");
  return cities.map((city, i) => ({ city, date: isoDay(dates[i]!), predicted: predicted[i]!, actual: actual[i] ?? null, modelVersion: version[i]! }));
}

function naiveMae(rows: readonly HindcastRow[]): number {
  const known = rows.filter((r) => r.naive !== null);
  return mean(known.map((r) => Math.abs(r.naive! - r.actual)));
}

const mean = (xs: readonly number[]) => (xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length);
const round = (x: number) => Math.round(x * 100) / 100;
