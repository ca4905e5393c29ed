import { create } from "@bufbuild/protobuf";
import { DriftStatus, DriftThresholdsSchema, type DriftThresholds, type MonitoringConfig } from "@granary/proto/metadata";

/** The share given to an empty bin so PSI stays finite (a category or range seen on one side only). */
export const PSI_EPSILON = 1e-4;

/** Fewer non-null values than this on either side: the distribution is not judged. */
export const MIN_VALUES = 30;

/** Thresholds of a feature without its own and a view without default ones. */
export const DEFAULT_THRESHOLDS: DriftThresholds = create(DriftThresholdsSchema, { psi: 0.2, ks: 0.2, nullShareIncrease: 0.1 });

/**
 * Population stability index of two histograms over the same bins: Σ (a − e) · ln(a / e), where e
 * and a are each bin's share of the reference and of the monitored values, an empty bin's share
 * taken as PSI_EPSILON. Undefined when a side has no values.
 */
export function psi(reference: readonly number[], actual: readonly number[]): number | undefined {
  if (reference.length !== actual.length) throw new Error("psi: histograms of different bins");
  const nRef = reference.reduce((s, c) => s + c, 0);
  const nAct = actual.reduce((s, c) => s + c, 0);
  if (nRef === 0 || nAct === 0) return undefined;
  let sum = 0;
  for (let i = 0; i < reference.length; i++) {
    if (reference[i] === 0 && actual[i] === 0) continue;
    const e = Math.max(reference[i]! / nRef, PSI_EPSILON);
    const a = Math.max(actual[i]! / nAct, PSI_EPSILON);
    sum += (a - e) * Math.log(a / e);
  }
  return sum;
}

/** Bin edges from reference quantiles: sorted, duplicates (ties, constant features) removed. */
export function binEdges(quantiles: readonly (number | null)[]): number[] {
  const finite = quantiles.filter((q): q is number => q !== null && Number.isFinite(q)).sort((a, b) => a - b);
  return finite.filter((q, i) => i === 0 || q !== finite[i - 1]);
}

/** The thresholds that apply to a column: its own, else the view's defaults, else DEFAULT_THRESHOLDS (an unset field of the chosen set is not checked). */
export function thresholdsFor(config: MonitoringConfig | undefined, column: string): DriftThresholds {
  return config?.features.find((f) => f.column === column)?.thresholds ?? config?.defaultThresholds ?? DEFAULT_THRESHOLDS;
}

export interface DriftMeasures {
  readonly psi?: number;
  readonly ks?: number;
  readonly nullShare: number;
  readonly referenceNullShare: number;
  /** Rows on each side (nulls included). */
  readonly rows: number;
  readonly referenceRows: number;
  /** Non-null values on each side. */
  readonly values: number;
  readonly referenceValues: number;
  /** False for columns whose values are not compared (lists): only the share of nulls is. */
  readonly distribution: boolean;
}

/**
 * A feature's status. The distribution (PSI, KS) is judged with at least MIN_VALUES non-null values
 * on both sides, the share of nulls with at least MIN_VALUES rows on both sides. DRIFT when a judged
 * statistic exceeds its threshold; else INSUFFICIENT_DATA when something could not be judged; else OK.
 */
export function featureStatus(m: DriftMeasures, t: DriftThresholds): { status: DriftStatus; exceeded: string[] } {
  const exceeded: string[] = [];
  const rowsOk = m.rows >= MIN_VALUES && m.referenceRows >= MIN_VALUES;
  const valuesOk = m.values >= MIN_VALUES && m.referenceValues >= MIN_VALUES;
  if (m.distribution && valuesOk) {
    if (t.psi !== undefined && m.psi !== undefined && m.psi > t.psi) exceeded.push("psi");
    if (t.ks !== undefined && m.ks !== undefined && m.ks > t.ks) exceeded.push("ks");
  }
  if (rowsOk && t.nullShareIncrease !== undefined && m.nullShare - m.referenceNullShare > t.nullShareIncrease) exceeded.push("null_share_increase");
  if (exceeded.length > 0) return { status: DriftStatus.DRIFT, exceeded };
  const judged = rowsOk && (!m.distribution || valuesOk);
  return { status: judged ? DriftStatus.OK : DriftStatus.INSUFFICIENT_DATA, exceeded };
}

const RANK: Readonly<Record<number, number>> = { [DriftStatus.OK]: 0, [DriftStatus.INSUFFICIENT_DATA]: 1, [DriftStatus.DRIFT]: 2 };

/** A report's status: the worst of its features' (DRIFT, then INSUFFICIENT_DATA, then OK); `empty` when it has none. */
export function worstStatus(statuses: readonly DriftStatus[], empty: DriftStatus): DriftStatus {
  if (statuses.length === 0) return empty;
  return statuses.reduce((w, s) => ((RANK[s] ?? 1) > (RANK[w] ?? 1) ? s : w), DriftStatus.OK);
}
