import type { JSX } from "preact";
import type { ColumnStatistics } from "@granary/proto/metadata";
import { Histogram, TopValues } from "./charts";
import { formatNumber } from "./format";

/** Per-column statistics: a histogram (numeric) or top values (categorical), and the quantiles. */
export function StatisticsView({ columns }: { columns: readonly ColumnStatistics[] }): JSX.Element {
  return (
    <div class="stats-grid" data-testid="feature-stats">
      {columns.map((c) => (
        <div class="stat-card" key={c.column}>
          <h3 class="mono">{c.column}</h3>
          {c.histogram.length > 0 && <Histogram feature={c.column} bins={c.histogram} />}
          {c.histogram.length === 0 && c.topValues.length > 0 && <TopValues feature={c.column} values={c.topValues.slice(0, 8)} total={c.count} />}
          <dl class="quantiles">
            <Q k="count" v={formatNumber(c.count)} />
            <Q k="nulls" v={formatNumber(c.nullCount)} />
            <Q k="distinct ≈" v={formatNumber(c.approxDistinct)} />
            {c.mean !== undefined && <Q k="mean" v={formatNumber(c.mean)} />}
            {c.stddev !== undefined && <Q k="stddev" v={formatNumber(c.stddev)} />}
            {c.min !== undefined && <Q k="min" v={formatNumber(c.min)} />}
            {c.p25 !== undefined && <Q k="p25" v={formatNumber(c.p25)} />}
            {c.p50 !== undefined && <Q k="median" v={formatNumber(c.p50)} />}
            {c.p75 !== undefined && <Q k="p75" v={formatNumber(c.p75)} />}
            {c.max !== undefined && <Q k="max" v={formatNumber(c.max)} />}
          </dl>
        </div>
      ))}
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
