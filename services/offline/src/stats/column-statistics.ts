import { create } from "@bufbuild/protobuf";
import {
  ColumnStatisticsSchema,
  CorrelationSchema,
  HistogramBinSchema,
  TopValueSchema,
  type ColumnStatistics,
  type Correlation,
} from "@granary/proto/metadata";
import { ScalarType, type DataType } from "@granary/proto/types";
import { type DuckConnection, quoteIdent } from "../duck/index.js";

export interface StatisticsColumn {
  readonly name: string;
  readonly type: DataType;
  /** Also list every distinct value (label and one-hot encoders need them). */
  readonly categories?: boolean;
}

export interface StatisticsOptions {
  readonly histograms: boolean;
  /** Also the Pearson correlation of every pair of numeric columns. */
  readonly correlations?: boolean;
  /** Bins of a numeric histogram. */
  readonly bins?: number;
  /** Most frequent values of a categorical column. */
  readonly topValues?: number;
  /** Cap on listed categories. */
  readonly maxCategories?: number;
}

const NUMERIC = new Set([ScalarType.INT32, ScalarType.INT64, ScalarType.FLOAT, ScalarType.DOUBLE]);
const CATEGORICAL = new Set([ScalarType.STRING, ScalarType.BOOL]);
const TEMPORAL = new Set([ScalarType.TIMESTAMP, ScalarType.DATE]);

/**
 * Descriptive statistics of columns of a relation, computed in DuckDB: count, nulls, approximate
 * distinct count; for numbers min, max, mean, population standard deviation, p25/p50/p75
 * (quantile_cont) and an equi-width histogram; for strings and bools the top values and the sorted
 * distinct categories. Timestamps report min and max in microseconds since the epoch, dates in days.
 * Numeric statistics and histograms describe the finite values only: `count` still includes ±Infinity
 * and NaN (non-null values), min/max/mean/stddev/quantiles skip them.
 */
export async function computeStatistics(
  connection: DuckConnection,
  relation: string,
  columns: readonly StatisticsColumn[],
  options: StatisticsOptions,
  signal?: AbortSignal,
): Promise<{ rowCount: bigint; columns: ColumnStatistics[]; correlations: Correlation[] }> {
  const parts = ["count(*) AS n"];
  columns.forEach((c, i) => {
    const col = quoteIdent(c.name);
    parts.push(`count(${col}) AS c${i}`);
    if (c.type.list) return;
    parts.push(`approx_count_distinct(${col}) AS d${i}`);
    if (NUMERIC.has(c.type.scalar)) {
      // ±Infinity and NaN are stored as written (IEEE values, like Feast and Hopsworks) but kept out
      // of the numeric statistics: one Infinity would make the mean and stddev non-finite (DuckDB
      // refuses: "STDDEV_POP is out of range") and every scaler fitted on them useless.
      const x = `${col}::DOUBLE`;
      const finite = `FILTER (WHERE isfinite(${x}))`;
      parts.push(`min(${x}) ${finite} AS min${i}`, `max(${x}) ${finite} AS max${i}`, `avg(${x}) ${finite} AS mean${i}`, `stddev_pop(${x}) ${finite} AS sd${i}`);
      parts.push(`quantile_cont(${x}, [0.25, 0.5, 0.75]) ${finite} AS q${i}`);
    } else if (TEMPORAL.has(c.type.scalar)) {
      const x = c.type.scalar === ScalarType.TIMESTAMP ? `epoch_us(${col})::DOUBLE` : `(${col} - DATE '1970-01-01')::DOUBLE`;
      parts.push(`min(${x}) AS min${i}`, `max(${x}) AS max${i}`);
    }
  });
  const [row] = await connection.rows(`SELECT ${parts.join(", ")} FROM ${relation}`, signal);
  const n = BigInt(row!.n as bigint);
  const out: ColumnStatistics[] = [];
  for (const [i, c] of columns.entries()) {
    const count = BigInt(row![`c${i}`] as bigint);
    const s = create(ColumnStatisticsSchema, { column: c.name, count, nullCount: n - count });
    if (!c.type.list) s.approxDistinct = BigInt(row![`d${i}`] as bigint);
    const num = (k: string) => (row![k] === null || row![k] === undefined ? undefined : Number(row![k]));
    if (NUMERIC.has(c.type.scalar) && !c.type.list) {
      s.min = num(`min${i}`);
      s.max = num(`max${i}`);
      s.mean = num(`mean${i}`);
      s.stddev = num(`sd${i}`);
      const q = row![`q${i}`] as (number | null)[] | null;
      if (q) [s.p25, s.p50, s.p75] = q.map((v) => (v === null ? undefined : Number(v))) as [number, number, number];
      if (options.histograms && s.min !== undefined && s.max !== undefined)
        s.histogram = await histogram(connection, relation, c.name, s.min, s.max, options.bins ?? 20, signal);
    } else if (TEMPORAL.has(c.type.scalar) && !c.type.list) {
      s.min = num(`min${i}`);
      s.max = num(`max${i}`);
    }
    const categorical = !c.type.list && (CATEGORICAL.has(c.type.scalar) || c.categories);
    if (categorical && count > 0n) {
      const col = quoteIdent(c.name);
      const top = await connection.rows(
        `SELECT ${col}::VARCHAR AS v, count(*) AS k FROM ${relation} WHERE ${col} IS NOT NULL GROUP BY ${col} ORDER BY k DESC, v LIMIT ${options.topValues ?? 20}`,
        signal,
      );
      s.topValues = top.map((t) => create(TopValueSchema, { value: String(t.v), count: BigInt(t.k as bigint) }));
      if (c.categories || CATEGORICAL.has(c.type.scalar)) {
        const cats = await connection.rows(
          `SELECT DISTINCT ${col} AS x, ${col}::VARCHAR AS v FROM ${relation} WHERE ${col} IS NOT NULL ORDER BY x LIMIT ${options.maxCategories ?? 100_000}`,
          signal,
        );
        s.categories = cats.map((r) => String(r.v));
      }
    }
    out.push(s);
  }
  const correlations = options.correlations
    ? await pearson(
        connection,
        relation,
        columns.filter((c) => !c.type.list && NUMERIC.has(c.type.scalar)),
        signal,
      )
    : [];
  return { rowCount: n, columns: out, correlations };
}

/**
 * Pearson correlations of every pair of numeric columns, over the rows where both are finite
 * (the rows the numeric statistics describe), in one pass. Undefined (fewer than two rows, a
 * constant column) is left unset rather than NaN.
 */
async function pearson(connection: DuckConnection, relation: string, numeric: readonly StatisticsColumn[], signal?: AbortSignal): Promise<Correlation[]> {
  const pairs: [StatisticsColumn, StatisticsColumn][] = [];
  for (let a = 0; a < numeric.length; a++) for (let b = a + 1; b < numeric.length; b++) pairs.push([numeric[a]!, numeric[b]!]);
  if (pairs.length === 0) return [];
  const x = (c: StatisticsColumn) => `${quoteIdent(c.name)}::DOUBLE`;
  const parts = pairs.map(([a, b], i) => `corr(${x(a)}, ${x(b)}) FILTER (WHERE isfinite(${x(a)}) AND isfinite(${x(b)})) AS r${i}`);
  const [row] = await connection.rows(`SELECT ${parts.join(", ")} FROM ${relation}`, signal);
  return pairs.map(([a, b], i) => {
    const r = row![`r${i}`];
    const value = r === null || r === undefined ? undefined : Number(r);
    return create(CorrelationSchema, { columnA: a.name, columnB: b.name, coefficient: value !== undefined && Number.isFinite(value) ? value : undefined });
  });
}

async function histogram(connection: DuckConnection, relation: string, name: string, min: number, max: number, bins: number, signal?: AbortSignal) {
  const col = `${quoteIdent(name)}::DOUBLE`;
  const width = max > min ? (max - min) / bins : 1;
  const rows = await connection.rows(
    `SELECT least(floor((${col} - ${min.toExponential()}) / ${width.toExponential()}), ${bins - 1})::INTEGER AS b, count(*) AS k FROM ${relation} WHERE ${col} IS NOT NULL AND isfinite(${col}) GROUP BY b ORDER BY b`,
    signal,
  );
  const counts = new Map(rows.map((r) => [Number(r.b), BigInt(r.k as bigint)]));
  const n = max > min ? bins : 1;
  return Array.from({ length: n }, (_, b) =>
    create(HistogramBinSchema, { lower: min + b * width, upper: b === n - 1 ? max : min + (b + 1) * width, count: counts.get(b) ?? 0n }),
  );
}
