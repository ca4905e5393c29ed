// Training/serving skew: the feature store's promise is that the vector a transaction was scored
// with online equals the row the offline store computes for the same transaction at the same
// time (point-in-time join, the same CEL, the same transformation statistics). This compares them.
import { type FeatureView, type Row, tableFromRows } from "@granary/client";
import type { FraudGroups } from "./feature-pipeline.js";
import type { Transaction } from "./data.js";
import { tableRows } from "./table-rows.js";

export interface SkewReport {
  readonly rows: number;
  readonly columns: number;
  /** Largest |online − offline| over numeric values. */
  readonly maxAbsDiff: number;
  /** Values that differ beyond the tolerance (or in nullness), the first few. */
  readonly mismatches: readonly { row: number; column: string; online: unknown; offline: unknown }[];
  readonly mismatchCount: number;
}

const TOLERANCE = 1e-9;

/**
 * Compares online vectors (recorded when each transaction was scored) with the offline rows for
 * the same transactions: a spine of (tid, datetime) read point-in-time from the label group and
 * every joined group, transformed with the model's training dataset.
 */
export async function checkSkew(view: FeatureView, groups: FraudGroups, scored: readonly { tx: Transaction; vector: Row }[], trainingDatasetVersion: number): Promise<SkewReport> {
  if (scored.length === 0) return compareRows([], [], view.featureNames);
  const spine = tableFromRows(
    groups.transactions.columns,
    scored.map(({ tx }) => ({ tid: tx.tid, datetime: tx.datetime })),
  );
  const offline = tableRows(await view.getBatchData({ spine, trainingDatasetVersion }));
  return compareRows(
    scored.map((s) => s.vector),
    offline,
    view.featureNames,
  );
}

/** Row i of `online` against row i of `offline`, column by column: numbers within 1e-9 (relative), the rest exactly. */
export function compareRows(online: readonly Readonly<Record<string, unknown>>[], offline: readonly Readonly<Record<string, unknown>>[], columns: readonly string[]): SkewReport {
  if (online.length !== offline.length) throw new Error(`${online.length} online rows but ${offline.length} offline rows`);
  const mismatches: { row: number; column: string; online: unknown; offline: unknown }[] = [];
  let mismatchCount = 0;
  let maxAbsDiff = 0;
  online.forEach((vector, i) => {
    for (const column of columns) {
      const a = comparable(vector[column]);
      const b = comparable(offline[i]![column]);
      let same: boolean;
      if (typeof a === "number" && typeof b === "number") {
        const diff = Math.abs(a - b);
        maxAbsDiff = Math.max(maxAbsDiff, diff);
        same = diff <= TOLERANCE * Math.max(1, Math.abs(a));
      } else {
        same = a === b;
      }
      if (!same) {
        mismatchCount++;
        if (mismatches.length < 5) mismatches.push({ row: i, column, online: vector[column], offline: offline[i]![column] });
      }
    }
  });
  return { rows: online.length, columns: columns.length, maxAbsDiff, mismatches, mismatchCount };
}

/** Numbers, bigints, Dates (as epoch ms) to numbers; strings and null as they are. */
function comparable(value: unknown): number | string | boolean | null {
  if (value === undefined || value === null) return null;
  if (typeof value === "bigint") return Number(value);
  if (value instanceof Date) return value.getTime();
  if (typeof value === "number" || typeof value === "string" || typeof value === "boolean") return value;
  return JSON.stringify(value);
}
