// The air-quality demo end to end (book ch. 3, batch): backfill history, train and register a
// model, then for each of the last days run the daily feature pipeline and the batch inference
// pipeline, and finish with a hindcast of the predictions against the readings.
//
//   npm run demo:air-quality                     (against `npm start`, or a suite started here)
//   npm run demo:air-quality -- --small          (or GRANARY_DEMO_SMALL=1: the CI size)
//   npm run demo:air-quality -- --cities 8 --days 1095 --batch-days 14 --seed 1 --project aq
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { Granary } from "@granary/client";
import { openDemoSuite } from "../shared/demo-runtime.js";
import { hindcast, loadProductionModel, predictDay, type HindcastResult, type Prediction } from "./batch-inference-pipeline.js";
import { dateOf, generateAirQualityData, isoDay, type AirQualityDataSize } from "./data.js";
import { backfill, createFeatureGroups, eveningFeaturePipeline, morningFeaturePipeline, type IngestCounts } from "./feature-pipeline.js";
import type { RegressionMetrics } from "./regression-metrics.js";
import { PRODUCTION, runTrainingPipeline } from "./training-pipeline.js";

export interface AirQualityDemoSize extends AirQualityDataSize {
  /** The last days of the simulation, predicted one by one by the batch pipeline. */
  readonly batchDays: number;
}

export const DEFAULT_SIZE: AirQualityDemoSize = { cities: 6, days: 730, batchDays: 7, seed: 42 };
export const SMALL_SIZE: AirQualityDemoSize = { cities: 3, days: 150, batchDays: 4, seed: 7 };
export const DEFAULT_PROJECT = "air_quality";

export interface AirQualityDemoOptions {
  readonly granary: Granary;
  readonly size?: Partial<AirQualityDemoSize>;
  readonly project?: string;
  readonly log?: (line: string) => void;
}

export interface AirQualityDemoSummary {
  readonly project: string;
  readonly size: AirQualityDemoSize;
  /** Rows each group holds at the end, read back through the SDK. */
  readonly rows: { readonly air_quality: number; readonly weather: number; readonly aq_predictions: number };
  readonly ingested: { readonly backfill: IngestCounts; readonly daily: IngestCounts };
  readonly training: {
    readonly featureView: { readonly name: string; readonly version: number };
    readonly trainingDatasetVersion: number;
    readonly trainRows: number;
    readonly testRows: number;
    readonly features: readonly string[];
    readonly metrics: RegressionMetrics;
    readonly baselines: { readonly yesterday: RegressionMetrics; readonly mean: RegressionMetrics };
  };
  readonly model: {
    readonly name: string;
    readonly version: number;
    readonly alias: string;
    readonly promoted: boolean;
    readonly featureView: { readonly name: string; readonly version: number };
    readonly trainingDatasetVersion: number;
  };
  /** Every prediction the batch pipeline made, in order. */
  readonly predictions: readonly Prediction[];
  readonly predictionsWritten: number;
  /** The first and last (exclusive) predicted dates. */
  readonly batchDates: { readonly from: string; readonly to: string };
  readonly hindcast: HindcastResult;
  readonly timingsMs: { readonly backfill: number; readonly training: number; readonly daily: number; readonly hindcast: number; readonly total: number };
}

export async function runAirQualityDemo(options: AirQualityDemoOptions): Promise<AirQualityDemoSummary> {
  const size = { ...DEFAULT_SIZE, ...options.size };
  const log = options.log ?? console.log;
  const projectName = options.project ?? DEFAULT_PROJECT;
  checkSize(size);
  const firstBatchDay = size.days - size.batchDays;
  const started = Date.now();
  const timings = { backfill: 0, training: 0, daily: 0, hindcast: 0, total: 0 };
  const timed = async <T>(step: keyof typeof timings, run: () => Promise<T>): Promise<T> => {
    const t = Date.now();
    try {
      return await run();
    } finally {
      timings[step] += Date.now() - t;
    }
  };

  const data = generateAirQualityData(size);
  log(
    `air quality: ${size.cities} cities (${data.series.map((s) => s.city.name).join(", ")}), ${size.days} days from ${isoDay(data.dates[0]!)}, seed ${size.seed}; the last ${size.batchDays} days are predicted`,
  );
  const project = await options.granary.project(projectName);
  const groups = await createFeatureGroups(project);

  // 1. Backfill: the history up to the first predicted day.
  const backfilled = await timed("backfill", () => backfill(groups, data, firstBatchDay));
  log(
    `1 backfill  air_quality ${backfilled.airQuality} rows, weather ${backfilled.weather} rows (${isoDay(dateOf(0))} … ${isoDay(dateOf(firstBatchDay - 1))}) in ${secs(timings.backfill)}`,
  );

  // 2. Training on that history: the last 20% of its days are the test split.
  const testStart = dateOf(Math.floor(firstBatchDay * 0.8));
  const trained = await timed("training", () =>
    runTrainingPipeline(project, groups, { trainStart: dateOf(0), testStart, end: dateOf(firstBatchDay), log: (l) => log(`2 training  ${l}`) }),
  );
  log(`2 training  done in ${secs(timings.training)}`);

  // 3. Each remaining day: morning features, batch predictions, evening readings.
  const production = await loadProductionModel(project);
  log(
    `3 daily     production model: ${production.name} v${production.version} on ${production.view.name} v${production.view.version}, training dataset v${production.trainingDatasetVersion}`,
  );
  const predictions: Prediction[] = [];
  const daily = { airQuality: 0, weather: 0 };
  for (let day = firstBatchDay; day < size.days; day++) {
    const date = dateOf(day);
    const t = Date.now();
    const made = await timed("daily", async () => {
      const morning = await morningFeaturePipeline(groups, data, day);
      const made = await predictDay(production, groups, date, new Date(date.getTime() + 6 * 3_600_000));
      const evening = await eveningFeaturePipeline(groups, data, day);
      daily.airQuality += morning.airQuality + evening.rowsInserted + evening.rowsUpdated;
      daily.weather += morning.weather;
      return made;
    });
    predictions.push(...made);
    const shown = made
      .slice(0, 4)
      .map((p) => `${p.city} ${p.predicted.toFixed(1)}`)
      .join(", ");
    log(
      `3 daily     ${isoDay(date)}: forecast + lag features in, ${made.length} predictions out (${shown}${made.length > 4 ? ", …" : ""}), readings in (${Date.now() - t} ms)`,
    );
  }

  // 4. Hindcast: predictions against what the sensors read.
  const from = dateOf(firstBatchDay);
  const to = dateOf(size.days);
  const result = await timed("hindcast", () => hindcast(groups, production.view, from, to));
  log(`4 hindcast  day         n  MAE model  MAE yesterday's value`);
  for (const d of result.days) log(`4 hindcast  ${d.date}  ${String(d.n).padStart(2)}  ${d.mae.toFixed(2).padStart(9)}  ${d.naiveMae.toFixed(2).padStart(9)}`);
  log(
    `4 hindcast  overall MAE ${result.mae.toFixed(2)} µg/m³ (RMSE ${result.rmse.toFixed(2)}) vs ${result.naiveMae.toFixed(2)} for yesterday's value, over ${result.rows.length} predictions`,
  );

  const [aq, weather, monitoring] = await Promise.all([groups.airQuality, groups.weather, groups.predictions].map((g) => g.read({ columns: ["city"] })));
  timings.total = Date.now() - started;
  const rows = { air_quality: aq!.numRows, weather: weather!.numRows, aq_predictions: monitoring!.numRows };
  log(`rows: air_quality ${rows.air_quality}, weather ${rows.weather}, aq_predictions ${rows.aq_predictions}; ${secs(timings.total)} in all`);

  return {
    project: projectName,
    size,
    rows,
    ingested: { backfill: backfilled, daily },
    training: {
      featureView: trained.featureView,
      trainingDatasetVersion: trained.trainingDatasetVersion,
      trainRows: trained.trainRows,
      testRows: trained.testRows,
      features: trained.model.featureNames,
      metrics: trained.metrics,
      baselines: trained.baselines,
    },
    model: {
      name: production.name,
      version: production.version,
      alias: PRODUCTION,
      promoted: trained.promoted,
      featureView: { name: production.view.name, version: production.view.version },
      trainingDatasetVersion: production.trainingDatasetVersion,
    },
    predictions,
    predictionsWritten: predictions.length,
    batchDates: { from: isoDay(from), to: isoDay(to) },
    hindcast: result,
    timingsMs: timings,
  };
}

/** Throws unless the size leaves enough history to train on before the predicted days. */
export function checkSize(size: AirQualityDemoSize): void {
  if (!(size.cities >= 1)) throw new RangeError(`need at least 1 city, got ${size.cities}`);
  if (!(size.batchDays >= 1 && size.days - size.batchDays >= 30))
    throw new RangeError(`need at least 30 days of history before the ${size.batchDays} predicted days (got ${size.days} days in all)`);
}

/** Sizes and project from the command line and environment (GRANARY_DEMO_SMALL=1 is --small). */
export function parseDemoArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): { size: AirQualityDemoSize; project: string } {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      small: { type: "boolean" },
      cities: { type: "string" },
      days: { type: "string" },
      "batch-days": { type: "string" },
      seed: { type: "string" },
      project: { type: "string" },
    },
    strict: true,
  });
  const base = values.small || env["GRANARY_DEMO_SMALL"] === "1" ? SMALL_SIZE : DEFAULT_SIZE;
  const int = (name: string, v: string | undefined, fallback: number) => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`--${name} takes a whole number, got "${v}"`);
    return n;
  };
  const size = {
    cities: int("cities", values.cities, base.cities),
    days: int("days", values.days, base.days),
    batchDays: int("batch-days", values["batch-days"], base.batchDays),
    seed: int("seed", values.seed, base.seed),
  };
  checkSize(size);
  return { size, project: values.project ?? DEFAULT_PROJECT };
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function main(): Promise<void> {
  const { size, project } = parseDemoArgs(process.argv.slice(2));
  const started = Date.now();
  const suite = await openDemoSuite();
  try {
    await runAirQualityDemo({ granary: suite.granary, size, project });
  } finally {
    await suite.close();
  }
  console.log(`demo:air-quality finished in ${secs(Date.now() - started)}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(`demo:air-quality failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  });
}
