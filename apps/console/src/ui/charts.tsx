import type { JSX } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import type { HistogramBin } from "@granary/proto/metadata";
import { formatNumber } from "./format";

type PlotModule = typeof import("@observablehq/plot");

/**
 * A chart drawn by Observable Plot into a div. Plot (and d3 under it) is loaded on first use, so
 * pages without charts never download it.
 */
function PlotChart({ draw, label, ...rest }: { draw: (plot: PlotModule) => Element; label: string } & Record<string, unknown>): JSX.Element {
  const ref = useRef<HTMLDivElement>(null);
  const [failed, setFailed] = useState<string | undefined>(undefined);
  useEffect(() => {
    let live = true;
    import("@observablehq/plot").then(
      (plot) => {
        if (live && ref.current) ref.current.replaceChildren(draw(plot));
      },
      (err: unknown) => setFailed(String(err)),
    );
    return () => {
      live = false;
    };
  }, [draw]);
  return (
    <div ref={ref} class="chart" role="img" aria-label={label} {...rest}>
      {failed && <span class="error">chart unavailable: {failed}</span>}
    </div>
  );
}

/** One bar (a Plot rectY, so one <rect>) per histogram bin, nothing else rectangular in the SVG. */
function widestLabel(data: readonly { lower: number; upper: number }[], format: (n: number) => string): number {
  return Math.max(0, ...data.flatMap((d) => [format(d.lower).length, format(d.upper).length]));
}

export function Histogram({
  feature,
  bins,
  format = formatNumber,
}: {
  feature: string;
  bins: readonly HistogramBin[];
  format?: (n: number) => string;
}): JSX.Element {
  const data = bins.map((b) => ({ lower: b.lower, upper: b.upper, count: Number(b.count) }));
  const draw = useCallback(
    (Plot: PlotModule) =>
      Plot.plot({
        width: 300,
        height: 140,
        marginLeft: 44,
        marginBottom: 28,
        style: { fontSize: "10px", background: "transparent" },
        // Long labels (16-digit keys, dates) get two ticks, so they never overlap.
        x: { label: null, ticks: format === formatNumber && widestLabel(data, format) <= 8 ? 4 : 2, tickFormat: (d: number) => format(d) },
        y: { label: null, grid: true, ticks: 3 },
        marks: [
          Plot.rectY(data, {
            x1: "lower",
            x2: "upper",
            y: "count",
            fill: "var(--accent)",
            insetLeft: 0.5,
            insetRight: 0.5,
            title: (d: (typeof data)[number]) => `${formatNumber(d.lower)} – ${formatNumber(d.upper)}: ${d.count}`,
          }),
          Plot.ruleY([0]),
        ],
      }),
    [feature, bins, format],
  );
  return <PlotChart draw={draw} label={`histogram of ${feature}`} data-testid="feature-histogram" data-feature={feature} />;
}

/** The most frequent values of a categorical column (also how a label's balance is shown). */
export function TopValues({
  feature,
  values,
  total,
  testid = "feature-top-values",
}: {
  feature: string;
  values: readonly { readonly value: string; readonly count: bigint }[];
  total: bigint;
  testid?: string;
}): JSX.Element {
  const all = Number(total) || values.reduce((s, v) => s + Number(v.count), 0) || 1;
  return (
    <table class="bars" data-testid={testid} data-feature={feature}>
      <tbody>
        {values.map((v) => {
          const share = Number(v.count) / all;
          return (
            <tr key={v.value}>
              <th class="mono">{v.value === "" ? "(empty)" : v.value}</th>
              <td class="bar-cell">
                <span class="bar" style={{ width: `${Math.max(1, share * 100)}%` }} />
              </td>
              <td class="num">
                {formatNumber(v.count)} <span class="muted">({(share * 100).toFixed(1)}%)</span>
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

export interface MetricPoint {
  readonly version: number;
  readonly metric: string;
  readonly value: number;
}

/** A metric across model versions: one small line-and-dot chart per metric (their scales differ). */
export function MetricChart({ metric, points }: { metric: string; points: readonly MetricPoint[] }): JSX.Element {
  const draw = useCallback(
    (Plot: PlotModule) =>
      Plot.plot({
        width: 280,
        height: 150,
        marginLeft: 52,
        marginTop: 22,
        style: { fontSize: "10px", background: "transparent" },
        x: { type: "point", label: "version", domain: points.map((p) => p.version), tickFormat: (v: number) => `v${v}` },
        y: { label: metric, grid: true, nice: true, ticks: 4, tickFormat: (v: number) => formatNumber(v) },
        marks: [
          Plot.lineY(points, { x: "version", y: "value", stroke: "var(--accent)" }),
          Plot.dot(points, { x: "version", y: "value", fill: "var(--accent)", r: 3.5, title: (d: MetricPoint) => `v${d.version}: ${d.value}` }),
        ],
      }),
    [metric, points],
  );
  return <PlotChart draw={draw} label={`${metric} across versions`} data-metric={metric} />;
}

export interface CommitRows {
  readonly id: string;
  readonly inserted: number;
  readonly updated: number;
  readonly deleted: number;
}

/** Rows inserted, updated and deleted per commit (the latest 60), stacked bars in commit order. */
export function CommitChart({ commits }: { commits: readonly CommitRows[] }): JSX.Element {
  const draw = useCallback(
    (Plot: PlotModule) => {
      const data = commits.flatMap((c) => [
        { id: c.id, change: "inserted", rows: c.inserted },
        { id: c.id, change: "updated", rows: c.updated },
        { id: c.id, change: "deleted", rows: c.deleted },
      ]);
      return Plot.plot({
        width: 900,
        height: 150,
        marginLeft: 48,
        style: { fontSize: "10px", background: "transparent" },
        x: {
          label: "commit",
          type: "band",
          domain: commits.map((c) => c.id),
          tickFormat: (id: string) => `#${id}`,
          ticks: commits.length > 30 ? [] : undefined,
        },
        y: { label: "rows", grid: true, ticks: 4 },
        color: { domain: ["inserted", "updated", "deleted"], range: ["#1c7c4a", "#d08a1a", "#b42323"], legend: true },
        marks: [
          Plot.barY(data, {
            x: "id",
            y: "rows",
            fill: "change",
            title: (d: { id: string; change: string; rows: number }) => `#${d.id}: ${d.rows} ${d.change}`,
          }),
          Plot.ruleY([0]),
        ],
      });
    },
    [commits],
  );
  return <PlotChart draw={draw} label="rows changed per commit" data-testid="commit-chart" />;
}
