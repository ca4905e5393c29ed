// Monitoring (Hopsworks' feature monitoring, book ch. 14): the inference pipeline logs every vector it
// scores and its prediction through the feature view (fv.log); a later day whose transactions
// have shifted — amounts three times larger, most of them at electronics merchants — is scored and
// logged too, and fv.computeDrift compares that day's logs with the training dataset the model was
// trained on: the shifted features drift, the card's own features (its credit limit, its bank's
// rating) do not.
import type { DriftReport, FeatureView, Project, Row } from "@granary/client";
import { DAY_MS, type FraudData, type Transaction } from "./data.js";
import { predictProbability, type LogisticModel } from "./logistic-regression.js";

/** The transaction's own columns, passed by the caller online (the label group is offline only). */
export const passedFeatures = (tx: Transaction): Row => ({ amount: tx.amount, category: tx.category, lat: tx.lat, lon: tx.lon });

/** One scored transaction, as the inference pipeline saw it. */
export interface ScoredTransaction {
  readonly tx: Transaction;
  /** The model's inputs: the view's vector after its model-dependent transformations. */
  readonly vector: Row;
  readonly probability: number;
}

export interface LoggedModel {
  readonly name: string;
  readonly version: number;
  readonly trainingDatasetVersion: number;
  readonly threshold: number;
}

/**
 * Logs scored transactions to the view's logging group in one call: the vector before its
 * transformations (the view scales only amount, which the caller passed, so the untransformed
 * vector is the transformed one with the passed amount), the model's inputs, the request's time
 * and the prediction (is_fraud: the probability over the model's threshold).
 */
export async function logScored(view: FeatureView, scored: readonly ScoredTransaction[], model: LoggedModel, logTime: Date): Promise<number> {
  if (scored.length === 0) return 0;
  const res = await view.log(
    scored.map((s) => ({ ...s.vector, cc_num: s.tx.cc_num, merchant_id: s.tx.merchant_id, ...passedFeatures(s.tx) })),
    scored.map((s) => ({ is_fraud: s.probability >= model.threshold })),
    {
      model: model.name,
      modelVersion: model.version,
      trainingDatasetVersion: model.trainingDatasetVersion,
      transformed: scored.map((s) => ({ amount: s.vector["amount"] ?? null })),
      requestParameters: scored.map((s) => ({ datetime: s.tx.datetime })),
      logTime,
    },
  );
  return Number(res.loggedCount);
}

/** A seeded generator (mulberry32), so the shifted day is the same every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The category most transactions of the shifted day are at. */
export const SHIFTED_CATEGORY = "electronics";

/**
 * A day after the stream whose transactions have shifted: `count` transactions of the history's
 * cards (drawn like the history, so the cards' own features keep their mix), amounts three times
 * larger, and seven in ten at an electronics merchant (5 % of the history's purchases).
 */
export function shiftedDay(data: FraudData, day: Date, count: number, seed: number): Transaction[] {
  const r = random(seed);
  const electronics = data.merchants.filter((m) => m.category === SHIFTED_CATEGORY);
  return Array.from({ length: count }, (_, i) => {
    const base = data.transactions[Math.floor(r() * data.transactions.length)]!;
    const m = electronics.length > 0 && r() < 0.7 ? electronics[Math.floor(r() * electronics.length)]! : undefined;
    return {
      ...base,
      tid: -(i + 1),
      merchant_id: m?.merchant_id ?? base.merchant_id,
      category: m?.category ?? base.category,
      lat: m?.lat ?? base.lat,
      lon: m?.lon ?? base.lon,
      amount: Math.round(base.amount * 300) / 100,
      datetime: new Date(day.getTime() + Math.floor((r() * DAY_MS) / 1000) * 1000),
      is_fraud: false,
    };
  });
}

export interface DriftCheck {
  readonly day: { readonly start: Date; readonly end: Date };
  readonly logged: number;
  readonly report: DriftReport;
}

/**
 * Scores the shifted day with the production model (through GetModelFeatureVectors, as the
 * inference pipeline does), logs it with that day's log time, and computes the drift of that day's
 * logs against the model's training dataset.
 */
export async function checkShiftedDay(
  project: Project,
  view: FeatureView,
  model: LoggedModel & { readonly weights: LogisticModel },
  txs: readonly Transaction[],
  day: { readonly start: Date; readonly end: Date },
): Promise<DriftCheck> {
  const scored: ScoredTransaction[] = [];
  for (let i = 0; i < txs.length; i += 100) {
    const batch = txs.slice(i, i + 100);
    const res = await project.getModelFeatureVectors(
      model.name,
      { version: model.version },
      batch.map((tx) => ({ cc_num: tx.cc_num, merchant_id: tx.merchant_id })),
      { featureView: view, passedFeatures: batch.map(passedFeatures), requestParameters: batch.map((tx) => ({ datetime: tx.datetime })) },
    );
    batch.forEach((tx, k) => scored.push({ tx, vector: res.rows[k]!, probability: predictProbability(model.weights, res.rows[k]!) }));
  }
  const logged = await logScored(view, scored, model, new Date(day.start.getTime() + DAY_MS / 2));
  const report = await view.computeDrift({ window: day, reference: { trainingDatasetVersion: model.trainingDatasetVersion } });
  return { day, logged, report };
}

/** The report as the demo prints it: one line per feature. */
export function driftLines(report: DriftReport): string[] {
  const n = (v: number | undefined) => (v === undefined ? "     —" : v.toFixed(3).padStart(6));
  const width = Math.max(...report.features.map((f) => f.column.length), 7);
  return [
    `drift report ${report.id}: ${report.status.toUpperCase()} — ${report.rowCount} logged vectors against ${report.referenceRowCount} rows of training dataset ${"trainingDatasetVersion" in report.reference ? `v${report.reference.trainingDatasetVersion}` : "?"}`,
    `${"feature".padEnd(width)}     psi      ks  nulls  status`,
    ...report.features.map(
      (f) =>
        `${f.column.padEnd(width)}  ${n(f.psi)}  ${n(f.ks)}  ${(100 * f.nullShare).toFixed(0).padStart(4)}%  ${f.status.toUpperCase()}${f.exceeded.length ? ` (${f.exceeded.join(", ")})` : ""}`,
    ),
  ];
}
