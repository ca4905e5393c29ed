import type { JSX } from "preact";
import type { ColumnStatistics } from "@granary/proto/metadata";
import { ScalarType, type DataType } from "@granary/proto/types";
import { Histogram, TopValues } from "./charts";
import { formatNumber } from "./format";

/** How a statistic of a column reads: timestamps are µs since the epoch and dates days, as numbers. */
export function statFormat(type: DataType | undefined): (n: number) => string {
  if (type?.list) return formatNumber;
  if (type?.scalar === ScalarType.TIMESTAMP) return (n) => new Date(n / 1000).toISOString().slice(0, 16).replace("T", " ");
  if (type?.scalar === ScalarType.DATE) return (n) => new Date(n * 86_400_000).toISOString().slice(0, 10);
  return formatNumber;
}

/** Per-column statistics: a histogram (numeric) or top values (categorical), and the quantiles. */
export function StatisticsView({ columns, types }: { columns: readonly ColumnStatistics[]; types?: ReadonlyMap<string, DataType | undefined> }): JSX.Element {
  return (
    <div class="stats-grid" data-testid="feature-stats">
      {columns.map((c) => (
        <StatCard key={c.column} c={c} format={statFormat(types?.get(c.column))} />
      ))}
    </div>
  );
}

function StatCard({ c, format }: { c: ColumnStatistics; format: (n: number) => string }): JSX.Element {
  const f = (n: number | undefined): string => (n === undefined ? "—" : format(n));
  return (
    <div class="stat-card">
      <h3 class="mono">{c.column}</h3>
      {c.histogram.length > 0 && <Histogram feature={c.column} bins={c.histogram} format={format} />}
      {c.histogram.length === 0 && c.topValues.length > 0 && <TopValues feature={c.column} values={c.topValues.slice(0, 8)} total={c.count} />}
      <dl class="quantiles">
        <Q k="count" v={formatNumber(c.count)} />
        <Q k="nulls" v={formatNumber(c.nullCount)} />
        <Q k="distinct ≈" v={formatNumber(c.approxDistinct)} />
        {c.mean !== undefined && <Q k="mean" v={f(c.mean)} />}
        {c.stddev !== undefined && format === formatNumber && <Q k="stddev" v={formatNumber(c.stddev)} />}
        {c.min !== undefined && <Q k="min" v={f(c.min)} />}
        {c.p25 !== undefined && <Q k="p25" v={f(c.p25)} />}
        {c.p50 !== undefined && <Q k="median" v={f(c.p50)} />}
        {c.p75 !== undefined && <Q k="p75" v={f(c.p75)} />}
        {c.max !== undefined && <Q k="max" v={f(c.max)} />}
      </dl>
    </div>
  );
}

function Q({ k, v }: { k: string; v: string }): JSX.Element {
  return (
    <div>
      <dt>{k}</dt>
      <dd>{v}</dd>
    </div>
  );
}
