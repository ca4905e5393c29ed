// The credit-card fraud demo end to end: feature pipeline → training pipeline → inference pipeline.
//   npm run demo:fraud                      against a running `npm start`, or a suite started here
//   npm run demo:fraud -- --small           CI-sized (also GRANARY_DEMO_SMALL=1)
//   npm run demo:fraud -- --cards 2000 --days 60 --transactions 80000 --stream 500 --seed 3
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import type { Granary } from "@granary/client";
import { openDemoSuite } from "../shared/demo-runtime.js";
import { DAY_MS, generateFraudData, type FraudDataSize } from "./data.js";
import { runFeaturePipeline, type FraudGroups } from "./feature-pipeline.js";
import { runInferencePipeline, type InferenceResult } from "./inference-pipeline.js";
import { shiftedDay } from "./monitoring.js";
import { MODEL_NAME, PRODUCTION, runTrainingPipeline, type TrainingResult } from "./training-pipeline.js";

/** Transactions of the shifted day the demo checks for drift: enough for stable statistics at any size. */
export const SHIFTED_TRANSACTIONS = 400;

export const DEFAULT_SIZE: FraudDataSize = { cards: 600, merchants: 200, days: 30, transactions: 20_000, stream: 300, seed: 7 };
export const SMALL_SIZE: FraudDataSize = { cards: 150, merchants: 48, days: 10, transactions: 2_500, stream: 60, seed: 7 };

export interface FraudDemoOptions {
  readonly granary: Granary;
  readonly size?: FraudDataSize;
  readonly log?: (line: string) => void;
  /** Default "fraud_demo". Online rows keep the latest event time, so a rerun needs a fresh project. */
  readonly project?: string;
}

export interface FraudDemoSummary {
  readonly project: string;
  readonly size: FraudDataSize;
  /** Rows ingested by the feature pipeline, per group. */
  readonly rows: Record<keyof FraudGroups, number>;
  readonly training: Omit<TrainingResult, "view" | "model" | "modelVersion"> & { readonly view: { name: string; version: number } };
  readonly model: { readonly name: string; readonly version: number; readonly alias: string };
  readonly inference: InferenceResult;
  readonly seconds: { readonly data: number; readonly features: number; readonly training: number; readonly inference: number; readonly total: number };
}

export async function runFraudDemo(options: FraudDemoOptions): Promise<FraudDemoSummary> {
  const log = options.log ?? console.log;
  const size = options.size ?? DEFAULT_SIZE;
  const clock = stopwatch();
  const project = await options.granary.project(options.project ?? "fraud_demo", { description: "Credit-card fraud demo (examples/fraud)" });

  log(`data: ${size.cards} cards, ${size.merchants} merchants, ${size.days} days, ~${size.transactions} transactions, seed ${size.seed}`);
  const data = generateFraudData(size);
  const historyFraud = data.transactions.filter((t) => t.is_fraud).length;
  log(
    `  ${data.transactions.length} transactions (${historyFraud} fraud) from ${data.start.toISOString().slice(0, 10)} to ${data.end.toISOString().slice(0, 10)}, ${data.stream.length} more to stream`,
  );
  const dataSeconds = clock.lap();

  log(`feature pipeline → project ${project.name}`);
  const features = await runFeaturePipeline(project, data, log);
  const featureSeconds = clock.lap();

  log("training pipeline");
  const training = await runTrainingPipeline(project, features.groups, { seed: size.seed }, log);
  const trainingSeconds = clock.lap();

  log("inference pipeline");
  // The day after the stream (UTC midnight): its transactions have shifted.
  const lastStreamTime = (data.stream.at(-1)?.datetime ?? data.end).getTime();
  const nextDay = new Date((Math.floor(lastStreamTime / DAY_MS) + 1) * DAY_MS);
  const inference = await runInferencePipeline(
    project,
    {
      groups: features.groups,
      aggregator: features.aggregator,
      stream: data.stream,
      model: MODEL_NAME,
      alias: PRODUCTION,
      shifted: { transactions: shiftedDay(data, nextDay, SHIFTED_TRANSACTIONS, size.seed), day: { start: nextDay, end: new Date(nextDay.getTime() + DAY_MS) } },
    },
    log,
  );
  const inferenceSeconds = clock.lap();

  const { view, model: _model, modelVersion, ...trainingSummary } = training;
  return {
    project: project.name,
    size,
    rows: features.rows,
    training: { ...trainingSummary, view: { name: view.name, version: view.version } },
    model: { name: MODEL_NAME, version: modelVersion, alias: PRODUCTION },
    inference,
    seconds: { data: dataSeconds, features: featureSeconds, training: trainingSeconds, inference: inferenceSeconds, total: clock.total() },
  };
}

/** The demo's size from CLI flags and the environment (GRANARY_DEMO_SMALL=1 is --small). */
export function sizeFromArgs(args: readonly string[], env: Record<string, string | undefined> = process.env): FraudDataSize {
  const { values } = parseArgs({
    args: [...args],
    options: {
      small: { type: "boolean" },
      cards: { type: "string" },
      merchants: { type: "string" },
      days: { type: "string" },
      transactions: { type: "string" },
      stream: { type: "string" },
      seed: { type: "string" },
    },
    strict: true,
  });
  const base = values.small || env["GRANARY_DEMO_SMALL"] === "1" ? SMALL_SIZE : DEFAULT_SIZE;
  const int = (name: keyof FraudDataSize): number => {
    const text = values[name as keyof typeof values];
    if (typeof text !== "string") return base[name];
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`--${name} takes a whole number, got "${text}"`);
    return n;
  };
  return { cards: int("cards"), merchants: int("merchants"), days: int("days"), transactions: int("transactions"), stream: int("stream"), seed: int("seed") };
}

function stopwatch() {
  const start = performance.now();
  let last = start;
  const seconds = (from: number) => Math.round((performance.now() - from) / 100) / 10;
  return {
    lap(): number {
      const s = seconds(last);
      last = performance.now();
      return s;
    },
    total: () => seconds(start),
  };
}

async function main(): Promise<void> {
  const size = sizeFromArgs(process.argv.slice(2));
  const started = performance.now();
  const demo = await openDemoSuite();
  try {
    // A shared suite may hold an earlier run's project: take a fresh one so the online store starts clean.
    const project = process.env["GRANARY_DEMO_PROJECT"] ?? (demo.started ? "fraud_demo" : `fraud_demo_${Date.now().toString(36)}`);
    const s = await runFraudDemo({ granary: demo.granary, size, project });
    const m = s.training.metrics;
    const { single, batch } = s.inference.latency;
    console.log("");
    console.log("summary");
    console.log(
      `  ingested   ${Object.entries(s.rows)
        .map(([k, n]) => `${k} ${n}`)
        .join(", ")}`,
    );
    console.log(
      `  model      ${s.model.name} v${s.model.version} @${s.model.alias}, trained on ${s.training.view.name} v${s.training.view.version} / training dataset v${s.training.trainingDatasetVersion}`,
    );
    console.log(`  test       AUC ${m.auc.toFixed(3)}  accuracy ${m.accuracy.toFixed(3)}  precision ${m.precision.toFixed(3)}  recall ${m.recall.toFixed(3)}`);
    console.log(
      `  online     p50 ${single.p50Ms.toFixed(2)} ms / p99 ${single.p99Ms.toFixed(2)} ms per transaction; p50 ${batch.p50Ms.toFixed(2)} ms / p99 ${batch.p99Ms.toFixed(2)} ms per batch of ~${batch.transactionsPerCall.toFixed(1)}`,
    );
    console.log(`  flagged    ${s.inference.flagged} of ${s.inference.scored} (${s.inference.caught} of ${s.inference.fraudInStream} frauds)`);
    console.log(
      `  skew       ${s.inference.skew.mismatchCount === 0 ? "none" : `${s.inference.skew.mismatchCount} mismatches`} (max |online − offline| ${s.inference.skew.maxAbsDiff.toExponential(1)})`,
    );
    console.log(
      `  time       data ${s.seconds.data} s, features ${s.seconds.features} s, training ${s.seconds.training} s, inference ${s.seconds.inference} s; ${((performance.now() - started) / 1000).toFixed(1)} s in all`,
    );
    const drift = s.inference.drift;
    if (drift) {
      const drifted = drift.report.features.filter((f) => f.status === "drift").map((f) => f.column);
      console.log(
        `  monitoring ${s.inference.logged} scored vectors logged; shifted day ${drift.day.start.toISOString().slice(0, 10)}: ${drift.report.status.toUpperCase()} (${drifted.join(", ") || "nothing drifted"})`,
      );
    }
    if (s.inference.skew.mismatchCount > 0) process.exitCode = 1;
  } finally {
    await demo.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(`fraud demo failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  });
}
