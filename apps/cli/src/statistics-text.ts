import type { ColumnStatistics } from "@granary/proto/metadata";
import { ScalarType, type DataType } from "@granary/proto/types";
import { formatTable } from "./output.js";

const BARS = "▁▂▃▄▅▆▇█";

/** Counts as a sparkline: the largest is █, any non-zero count at least ▁, zero a space. */
export function sparkline(counts: readonly number[]): string {
  const max = Math.max(0, ...counts);
  return counts.map((c) => (c <= 0 || max === 0 ? " " : BARS[Math.max(0, Math.ceil((BARS.length * c) / max) - 1)])).join("");
}

/** A number short enough for a table cell. */
export function shortNumber(x: number): string {
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return String(x);
  const abs = Math.abs(x);
  if (abs !== 0 && (abs >= 1e7 || abs < 1e-3)) return x.toExponential(2);
  return String(Number(x.toPrecision(4)));
}

const TIME_SCALARS = new Set([ScalarType.TIMESTAMP, ScalarType.DATE]);

/** A statistic of a column as text: timestamps (microseconds) and dates (days) as ISO-8601. */
function valueText(x: number | undefined, type: DataType | undefined): string {
  if (x === undefined) return "";
  if (type && !type.list && TIME_SCALARS.has(type.scalar)) {
    const ms = type.scalar === ScalarType.DATE ? x * 86_400_000 : x / 1000;
    const iso = new Date(ms).toISOString();
    return type.scalar === ScalarType.DATE || iso.endsWith("T00:00:00.000Z") ? iso.slice(0, 10) : iso.replace(/\.\d+Z$/, "Z");
  }
  return shortNumber(x);
}

/** The distribution of a column: a histogram sparkline, or its most frequent values. */
function distribution(s: ColumnStatistics): string {
  if (s.histogram.length > 0) return sparkline(s.histogram.map((b) => Number(b.count)));
  if (s.topValues.length > 0) {
    const total = Number(s.count - s.nullCount) || 1;
    return s.topValues
      .slice(0, 4)
      .map((t) => `${t.value} ${Math.round((100 * Number(t.count)) / total)}%`)
      .join(", ");
  }
  return "";
}

/** Per-column statistics as a table: null fraction, distinct values, min, quartiles, max, distribution. */
export function statisticsTable(columns: readonly ColumnStatistics[], typeOf: (column: string) => DataType | undefined): string {
  const rows = columns.map((s) => {
    const type = typeOf(s.column);
    const count = Number(s.count);
    return [
      s.column,
      count === 0 ? "" : `${((100 * Number(s.nullCount)) / count).toFixed(1)}%`,
      String(s.approxDistinct),
      valueText(s.min, type),
      valueText(s.p25, type),
      valueText(s.p50, type),
      valueText(s.p75, type),
      valueText(s.max, type),
      valueText(s.mean, type),
      distribution(s),
    ];
  });
  return formatTable(["column", "nulls", "distinct", "min", "p25", "median", "p75", "max", "mean", "distribution"], rows);
}

/** Statistics as JSON: numbers, bins and top values as they are. */
export function statisticsJson(columns: readonly ColumnStatistics[]) {
  return columns.map((s) => ({
    column: s.column,
    count: Number(s.count),
    null_fraction: Number(s.count) === 0 ? null : Number(s.nullCount) / Number(s.count),
    distinct: Number(s.approxDistinct),
    min: s.min ?? null,
    p25: s.p25 ?? null,
    median: s.p50 ?? null,
    p75: s.p75 ?? null,
    max: s.max ?? null,
    mean: s.mean ?? null,
    stddev: s.stddev ?? null,
    histogram: s.histogram.map((b) => ({ lower: b.lower, upper: b.upper, count: Number(b.count) })),
    top_values: s.topValues.map((t) => ({ value: t.value, count: Number(t.count) })),
  }));
}
