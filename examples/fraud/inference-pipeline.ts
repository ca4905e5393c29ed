// Inference pipeline: the production model is downloaded by alias; new transactions are scored as
// they arrive through GetModelFeatureVectors (the online service resolves the feature-view version
// and training statistics the model was trained with), one at a time and in small batches. After
// each micro-batch the streaming feature pipeline updates the card aggregates, so the next
// transaction of a card sees this one.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { consistencySummary, type Project } from "@granary/client";
import { percentile } from "../shared/demo-runtime.js";
import type { CardAggregator } from "./card-aggregates.js";
import type { Transaction } from "./data.js";
import { ingestTransactions, type FraudGroups } from "./feature-pipeline.js";
import { predictProbability, type LogisticModel } from "./logistic-regression.js";
import { checkShiftedDay, driftLines, logScored, passedFeatures, type DriftCheck, type ScoredTransaction } from "./monitoring.js";
import { skewReportOf, type SkewReport } from "./skew-check.js";

export interface LatencySummary {
  /** Calls made. */
  readonly calls: number;
  /** Transactions per call. */
  readonly transactionsPerCall: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export interface InferenceResult {
  readonly modelVersion: number;
  readonly scored: number;
  readonly flagged: number;
  /** Fraudulent transactions in the stream (the generator knows), and how many of them were flagged. */
  readonly fraudInStream: number;
  readonly caught: number;
  /** Feature lookup plus scoring, per call. */
  readonly latency: { readonly single: LatencySummary; readonly batch: LatencySummary };
  readonly skew: SkewReport;
  /** Scored vectors logged through the feature view (fv.log), with their predictions. */
  readonly logged: number;
  /** The shifted day's scoring, logging and drift report, when one was given. */
  readonly drift?: DriftCheck;
}

export interface InferenceOptions {
  readonly groups: FraudGroups;
  readonly aggregator: CardAggregator;
  readonly stream: readonly Transaction[];
  readonly model: string;
  readonly alias: string;
  /** Most transactions per batched call. */
  readonly batchSize?: number;
  /** A later day of shifted transactions to score, log and check for drift after the stream. */
  readonly shifted?: { readonly transactions: readonly Transaction[]; readonly day: { readonly start: Date; readonly end: Date } };
}

export async function runInferencePipeline(project: Project, options: InferenceOptions, log: (line: string) => void): Promise<InferenceResult> {
  const production = await project.modelRegistry.getModel(options.model, { alias: options.alias });
  const lineage = production.featureView;
  if (!lineage) throw new Error(`${options.model} v${production.version} names no feature view`);
  const model = await downloadModel(production);
  // Fetched once: without it every GetModelFeatureVectors call would first resolve the view.
  const featureView = await project.getFeatureView(lineage.name, lineage.version);
  log(
    `  ${options.model}@${options.alias} is v${production.version} (${lineage.name} v${lineage.version}, training dataset v${production.trainingDatasetVersion}), threshold ${model.threshold.toFixed(3)}`,
  );

  const batches = microBatches(options.stream, options.batchSize ?? 8);
  const singleBatches = Math.ceil(batches.length / 2);
  const single: number[] = [];
  const batched: number[] = [];
  const scored: ScoredTransaction[] = [];
  const score = async (txs: readonly Transaction[]) => {
    const started = performance.now();
    const res = await project.getModelFeatureVectors(
      options.model,
      { alias: options.alias },
      txs.map((tx) => ({ cc_num: tx.cc_num, merchant_id: tx.merchant_id })),
      {
        featureView,
        passedFeatures: txs.map(passedFeatures),
        requestParameters: txs.map((tx) => ({ datetime: tx.datetime })),
      },
    );
    const probabilities = res.rows.map((row) => predictProbability(model, row));
    const elapsed = performance.now() - started;
    if (res.modelVersion !== production.version) throw new Error(`alias ${options.alias} moved to v${res.modelVersion} during the run`);
    txs.forEach((tx, i) => scored.push({ tx, vector: res.rows[i]!, probability: probabilities[i]! }));
    return elapsed;
  };

  for (const [b, batch] of batches.entries()) {
    if (b < singleBatches) for (const tx of batch) single.push(await score([tx]));
    else batched.push(await score(batch));
    await ingestTransactions(options.groups, options.aggregator, batch);
  }

  const flagged = scored.filter((s) => s.probability >= model.threshold);
  const fraud = scored.filter((s) => s.tx.is_fraud);
  const batchSizes = batches.slice(singleBatches).map((b) => b.length);
  const latency = {
    single: summary(single, 1),
    batch: summary(batched, batchSizes.length === 0 ? 0 : batchSizes.reduce((s, n) => s + n, 0) / batchSizes.length),
  };
  log(`  scored ${scored.length} transactions: ${single.length} one at a time, ${scored.length - single.length} in ${batched.length} batches`);
  log(`  latency one at a time p50 ${latency.single.p50Ms.toFixed(2)} ms  p99 ${latency.single.p99Ms.toFixed(2)} ms`);
  log(
    `  latency per batch of ~${latency.batch.transactionsPerCall.toFixed(1)}  p50 ${latency.batch.p50Ms.toFixed(2)} ms  p99 ${latency.batch.p99Ms.toFixed(2)} ms`,
  );
  log(
    `  flagged ${flagged.length} of ${scored.length}; the stream held ${fraud.length} frauds, ${flagged.filter((s) => s.tx.is_fraud).length} of them flagged`,
  );
  for (const s of flagged.slice(0, 3)) {
    const v = s.vector;
    log(
      `    e.g. tid ${s.tx.tid}: ${s.tx.amount.toFixed(2)} at ${s.tx.category}, ${km(v["distance_from_home_km"])} from home, ${km(v["distance_from_prev_km"])} and ${hours(v["hours_since_prev"])} → p=${s.probability.toFixed(3)}${s.tx.is_fraud ? " (fraud)" : ""}`,
    );
  }

  // Granary's consistency check: the scored transactions' cards and merchants, online now against
  // offline as of now, through the model's transformations. The transaction's own columns are
  // passed by the caller online (the label group is offline only), so they are not compared.
  const entities = scored.map(({ tx }) => ({ cc_num: tx.cc_num, merchant_id: tx.merchant_id }));
  const consistency = await featureView.checkConsistency({ entities, model: { name: options.model, version: production.version } });
  const skew = skewReportOf(consistency, entities);
  log(`  skew check (fv.checkConsistency): ${skew.rows} entities, ${skew.columns} features compared: ${skew.mismatchCount} mismatches`);
  for (const line of consistencySummary(consistency).split("\n")) log(`    ${line.trim()}`);

  // Every scored vector and its prediction goes to the view's logs (one commit, logged at the
  // stream's last transaction): what monitoring compares with the training data.
  const logged = { name: options.model, version: production.version, trainingDatasetVersion: production.trainingDatasetVersion, threshold: model.threshold };
  const loggedCount = await logScored(featureView, scored, logged, options.stream.at(-1)?.datetime ?? new Date());
  log(`  logged ${loggedCount} scored vectors with their predictions (fv.log) to ${featureView.name}_${featureView.version}_logging`);

  let drift: DriftCheck | undefined;
  if (options.shifted) {
    const { transactions, day } = options.shifted;
    drift = await checkShiftedDay(project, featureView, { ...logged, weights: model }, transactions, day);
    log(
      `  a shifted day (${day.start.toISOString().slice(0, 10)}): ${drift.logged} transactions scored and logged; drift against training dataset v${logged.trainingDatasetVersion}:`,
    );
    for (const line of driftLines(drift.report)) log(`    ${line}`);
  }

  return {
    logged: loggedCount,
    ...(drift ? { drift } : {}),
    modelVersion: production.version,
    scored: scored.length,
    flagged: flagged.length,
    fraudInStream: fraud.length,
    caught: flagged.filter((s) => s.tx.is_fraud).length,
    latency,
    skew,
  };
}

/**
 * Consecutive transactions, at most `size` each, never two of one card: a transaction is scored
 * only after every earlier one of its card has reached the aggregates.
 */
export function microBatches(stream: readonly Transaction[], size: number): Transaction[][] {
  const out: Transaction[][] = [];
  let current: Transaction[] = [];
  const cards = new Set<number>();
  for (const tx of stream) {
    if (current.length >= size || cards.has(tx.cc_num)) {
      out.push(current);
      current = [];
      cards.clear();
    }
    current.push(tx);
    cards.add(tx.cc_num);
  }
  if (current.length > 0) out.push(current);
  return out;
}

async function downloadModel(version: { download(dir: string): Promise<string[]> }): Promise<LogisticModel> {
  const dir = await mkdtemp(join(tmpdir(), "granary-fraud-model-"));
  try {
    await version.download(dir);
    return JSON.parse(await readFile(join(dir, "model.json"), "utf8")) as LogisticModel;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function summary(latencies: readonly number[], transactionsPerCall: number): LatencySummary {
  return { calls: latencies.length, transactionsPerCall, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
}

function km(v: unknown): string {
  return typeof v === "number" ? `${v.toFixed(0)} km` : "? km";
}

function hours(v: unknown): string {
  if (typeof v !== "number") return "first use";
  return v < 1 ? `${(v * 60).toFixed(0)} min after the previous use` : `${v.toFixed(1)} h after the previous use`;
}
