// The training pipeline (book ch. 3): a feature view joining the weather with the air-quality
// lag features and the pm25 label, a stored training dataset split by time, a ridge regression
// trained here in TypeScript, evaluated against naive forecasts, and registered with its metrics,
// schema, input example and lineage, then promoted to alias "production".
import { Code, ConnectError } from "@connectrpc/connect";
import { feature, split, type FeatureView, type Project } from "@granary/client";
import type { AirQualityGroups } from "./feature-pipeline.js";
import { fitLinearRegression, modelToJson, predictAll, type LinearModel } from "./linear-regression.js";
import { regressionMetrics, type RegressionMetrics } from "./regression-metrics.js";
import { columnValues, featureMatrix } from "./tables.js";

export const FEATURE_VIEW = "air_quality_fv";
export const MODEL_NAME = "air_quality_linear";
export const PRODUCTION = "production";
export const LABEL = "pm25";
const AIR_QUALITY_FEATURES = ["pm25_lag_1d", "pm25_rolling_3d", "pm25_rolling_7d"];
const WEATHER_FEATURES = ["temperature", "precipitation", "wind_speed", "wind_dir_sin", "wind_dir_cos"];

/**
 * The model's inputs: for each air-quality row (city, date), its lag features and the city's
 * weather of that date (point-in-time join on city). city and date ride along as inference
 * helpers, so batch predictions can be written back per city and day; they are not model inputs.
 * Every feature is standard-scaled with the training split's statistics (model-dependent: never
 * stored, applied identically by getBatchData).
 */
export async function getOrCreateAirQualityView(project: Project, groups: AirQualityGroups): Promise<FeatureView> {
  const query = groups.airQuality.select(["city", "date", LABEL, ...AIR_QUALITY_FEATURES]).join(groups.weather.select(WEATHER_FEATURES), { on: ["city"] });
  return project.getOrCreateFeatureView({
    name: FEATURE_VIEW,
    version: 1,
    description: "PM2.5 from the day's weather (forecast) and the recent PM2.5 level",
    query,
    labels: [LABEL],
    inferenceHelperColumns: ["city", "date"],
    transformations: Object.fromEntries([...AIR_QUALITY_FEATURES, ...WEATHER_FEATURES].map((c) => [c, "standard_scaler" as const])),
  });
}

export interface TrainingOptions {
  /** Training rows: label dates in [trainStart, testStart); test rows: [testStart, end). */
  readonly trainStart: Date;
  readonly testStart: Date;
  readonly end: Date;
  /** Ridge penalty. Default 1. */
  readonly l2?: number;
  readonly log?: (line: string) => void;
}

export interface TrainingResult {
  readonly featureView: { readonly name: string; readonly version: number };
  readonly trainingDatasetVersion: number;
  readonly trainRows: number;
  readonly testRows: number;
  readonly model: LinearModel;
  /** On the test split. */
  readonly metrics: RegressionMetrics;
  /** Naive forecasts on the same test rows: yesterday's reading, and the training mean. */
  readonly baselines: { readonly yesterday: RegressionMetrics; readonly mean: RegressionMetrics };
  readonly modelVersion: number;
  /** Whether alias production now points at this version. */
  readonly promoted: boolean;
}

export async function runTrainingPipeline(project: Project, groups: AirQualityGroups, options: TrainingOptions): Promise<TrainingResult> {
  const log = options.log ?? (() => {});
  const view = await getOrCreateAirQualityView(project, groups);

  // A time split: the test days come after every training day, as the predicted days will.
  // Rows without a reading yet, or without yesterday's reading, are no training examples.
  const dataset = await view.createTrainingDataset({
    start: options.trainStart,
    end: options.end,
    filter: feature(LABEL).isNotNull().and(feature("pm25_lag_1d").isNotNull()),
    split: timeSplit(options.trainStart, options.testStart, options.end),
  });
  const [{ train, test }, raw] = await Promise.all([view.getTrainTestSplit(dataset.version), view.getTrainTestSplit(dataset.version, { untransformed: true })]);
  log(`training dataset v${dataset.version} of ${view.name} v${view.version}: ${train.numRows} train rows, ${test.numRows} test rows (split by date)`);

  const featureNames = view.featureNames;
  const trainX = featureMatrix(train, featureNames, "drop");
  const trainY = pick(columnValues(train, LABEL), trainX.kept);
  const model = fitLinearRegression(trainX.x, trainY, featureNames, { l2: options.l2 ?? 1 });

  const testX = featureMatrix(test, featureNames, "drop");
  const testY = pick(columnValues(test, LABEL), testX.kept);
  const metrics = regressionMetrics(testY, predictAll(model, testX.x));
  const trainMean = trainY.reduce((a, b) => a + b, 0) / trainY.length;
  const baselines = {
    yesterday: regressionMetrics(testY, pick(columnValues(raw.test, "pm25_lag_1d"), testX.kept)),
    mean: regressionMetrics(
      testY,
      testY.map(() => trainMean),
    ),
  };
  log(
    `linear regression on ${featureNames.length} features: test RMSE ${metrics.rmse.toFixed(2)}, MAE ${metrics.mae.toFixed(2)}, R² ${metrics.r2.toFixed(3)}` +
      ` | yesterday's value: RMSE ${baselines.yesterday.rmse.toFixed(2)}, MAE ${baselines.yesterday.mae.toFixed(2)} | training mean: RMSE ${baselines.mean.rmse.toFixed(2)}`,
  );
  log(`weights (per standard deviation): ${featureNames.map((n, j) => `${n} ${signed(model.weights[j]!)}`).join(", ")}`);

  const registry = project.modelRegistry;
  const featureView = { name: view.name, version: view.version };
  const draft = await registry.createModel({
    name: MODEL_NAME,
    description: "Daily PM2.5 per city from the weather forecast and recent PM2.5 (ridge regression)",
    framework: "granary-linear-regression",
    metrics: {
      rmse: metrics.rmse,
      mae: metrics.mae,
      r2: metrics.r2,
      baseline_yesterday_rmse: baselines.yesterday.rmse,
      baseline_yesterday_mae: baselines.yesterday.mae,
      baseline_mean_rmse: baselines.mean.rmse,
    },
    parameters: { l2: String(model.l2), train_rows: String(trainX.x.length), test_rows: String(testX.x.length), split: "time" },
    schema: { inputs: featureNames.map((name) => ({ name, type: "double" })), outputs: [{ name: LABEL, type: "double" }] },
    inputExample: testX.x.slice(0, 3).map((row) => Object.fromEntries(featureNames.map((n, j) => [n, row[j]!]))),
    featureView,
    trainingDatasetVersion: dataset.version,
  });
  const saved = await draft.save({
    "model.json": modelToJson(model, { target: LABEL, featureView, trainingDatasetVersion: dataset.version }),
    "evaluation.json": JSON.stringify({ test: metrics, baselines }, null, 2),
  });

  // The big green button, guarded: a version that cannot beat yesterday's reading does not go live
  // (unless nothing is live yet).
  const beatsNaive = metrics.rmse < baselines.yesterday.rmse;
  const promoted = beatsNaive || !(await hasAlias(project, MODEL_NAME, PRODUCTION));
  if (promoted) await registry.setAlias(MODEL_NAME, PRODUCTION, saved.version);
  log(
    `registered ${MODEL_NAME} v${saved.version} (lineage ${view.name} v${view.version}, training dataset v${dataset.version})${promoted ? `, alias ${PRODUCTION}` : `: not promoted, it does not beat yesterday's value`}`,
  );

  return {
    featureView,
    trainingDatasetVersion: dataset.version,
    trainRows: trainX.x.length,
    testRows: testX.x.length,
    model,
    metrics,
    baselines,
    modelVersion: saved.version,
    promoted,
  };
}

function timeSplit(trainStart: Date, testStart: Date, end: Date) {
  return split.time({ train: { start: trainStart, end: testStart }, test: { start: testStart, end } });
}

async function hasAlias(project: Project, model: string, alias: string): Promise<boolean> {
  try {
    await project.modelRegistry.getModel(model, { alias });
    return true;
  } catch (err) {
    if (ConnectError.from(err).code === Code.NotFound) return false;
    throw err;
  }
}

function pick(values: readonly (number | null)[], rows: readonly number[]): number[] {
  return rows.map((i) => values[i]!);
}

const signed = (x: number) => `${x >= 0 ? "+" : ""}${x.toFixed(2)}`;
