// Training/serving skew: the feature store's promise is that the vector a model is served online
// equals the row the offline store computes for the same entity at the same time (point-in-time
// join, the same CEL, the same transformation statistics). The inference pipeline asks Granary's
// own check, fv.checkConsistency() (OfflineService.CheckConsistency); this file turns its result
// into the demo's summary. compareRows is the row-by-row oracle the end-to-end test probes with.
import type { ConsistencyResult, Row } from "@granary/client";

export interface SkewReport {
  readonly rows: number;
  readonly columns: number;
  /** Largest |online − offline| over numeric values (of the examples the check returns). */
  readonly maxAbsDiff: number;
  /** Values that differ beyond the tolerance (or in nullness), the first few. */
  readonly mismatches: readonly { row: number; column: string; online: unknown; offline: unknown }[];
  /** Differing values, plus entities found on one side only. */
  readonly mismatchCount: number;
}

const TOLERANCE = 1e-9;

/** The demo's report of a consistency check over `entities` (one per scored transaction). */
export function skewReportOf(result: ConsistencyResult, entities: readonly Row[]): SkewReport {
  const same = (a: Row, b: Row) => Object.entries(b).every(([k, v]) => comparable(a[k]) === comparable(v));
  const mismatches = result.features.flatMap((f) =>
    f.examples.map((e) => ({ row: entities.findIndex((x) => same(x, e.entity)), column: f.name, online: e.online, offline: e.offline })),
  );
  const diffs = mismatches.map((m) => [comparable(m.online), comparable(m.offline)]).filter(([a, b]) => typeof a === "number" && typeof b === "number") as [
    number,
    number,
  ][];
  return {
    rows: result.entitiesChecked,
    columns: result.features.filter((f) => !f.notCompared).length,
    maxAbsDiff: diffs.reduce((max, [a, b]) => Math.max(max, Math.abs(a - b)), 0),
    mismatches: mismatches.slice(0, 5),
    mismatchCount: result.mismatches + result.missingOnline.count + result.missingOffline.count,
  };
}

/** Row i of `online` against row i of `offline`, column by column: numbers within 1e-9 (relative), the rest exactly. */
export function compareRows(
  online: readonly Readonly<Record<string, unknown>>[],
  offline: readonly Readonly<Record<string, unknown>>[],
  columns: readonly string[],
): SkewReport {
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
