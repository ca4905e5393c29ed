import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { DriftStatus, type FeatureDrift, type MonitoringReport } from "@granary/proto/metadata";
import { typeName } from "@granary/client";
import { TimeRangeSchema, type TimeRange } from "@granary/proto/types";
import { CliError, UsageError } from "../cli-error.js";
import type { CommandContext } from "../context.js";
import { formatTable, toJson } from "../output.js";
import { parseRef } from "../refs.js";
import { parseTimestampMicros } from "../value-parsing.js";

/** The exit code of `granary drift` when the report says DRIFT (1 and 2 are failures and usage errors). */
export const EXIT_DRIFT = 3;

export interface DriftOptions {
  readonly version?: number;
  readonly since?: string;
  readonly start?: string;
  readonly end?: string;
  readonly reference?: string;
  readonly referenceWindow?: string;
  readonly column: string[];
  readonly list?: boolean;
  readonly limit?: number;
}

/** What ComputeDrift compares the window with. */
export type DriftReference = { readonly trainingDatasetVersion: number } | { readonly window: { readonly start: Date; readonly end: Date } };

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `90m`, `12h`, `1d`, `2w` as milliseconds; a usage error otherwise. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+)\s*([smhdw])$/.exec(text.trim());
  if (!m || Number(m[1]) === 0) throw new UsageError(`${flag} "${text}" is not a duration: write a positive number and a unit s, m, h, d or w (1d, 12h)`);
  return Number(m[1]) * UNITS[m[2]!]!;
}

/** An instant of the command line (ISO-8601, UTC without a zone), or a usage error naming the flag. */
export function parseInstant(text: string, flag: string): Date {
  const micros = parseTimestampMicros(text.trim());
  if (micros === undefined) throw new UsageError(`${flag} "${text}" is not a time: write ISO-8601, e.g. 2026-12-07 or 2026-12-07T10:00:00Z`);
  return new Date(Number(micros / 1000n));
}

/** The monitored window: --since (default 1d, ending now) or --start [--end]; never both. */
export function driftWindow(options: Pick<DriftOptions, "since" | "start" | "end">, now: Date): { start: Date; end?: Date } {
  if (options.since !== undefined && (options.start !== undefined || options.end !== undefined))
    throw new UsageError("give either --since or --start/--end, not both");
  if (options.start === undefined) {
    if (options.end !== undefined) throw new UsageError("--end needs --start (or use --since)");
    return { start: new Date(now.getTime() - parseDuration(options.since ?? "1d", "--since")) };
  }
  const start = parseInstant(options.start, "--start");
  if (options.end === undefined) return { start };
  const end = parseInstant(options.end, "--end");
  if (end <= start) throw new UsageError(`--end ${options.end} is not after --start ${options.start}`);
  return { start, end };
}

/** `--reference td:<n>` (td:latest or td:0 for the latest) or `--reference-window <start>..<end>`; the latest training dataset when neither. */
export function driftReference(options: Pick<DriftOptions, "reference" | "referenceWindow">): DriftReference {
  if (options.reference !== undefined && options.referenceWindow !== undefined) throw new UsageError("give either --reference or --reference-window, not both");
  if (options.referenceWindow !== undefined) {
    const parts = options.referenceWindow.split("..");
    if (parts.length !== 2 || !parts[0] || !parts[1])
      throw new UsageError(`--reference-window "${options.referenceWindow}" is not <start>..<end> (ISO-8601 times, e.g. 2026-12-01..2026-12-06)`);
    const start = parseInstant(parts[0], "--reference-window");
    const end = parseInstant(parts[1], "--reference-window");
    if (end <= start) throw new UsageError(`--reference-window: ${parts[1]} is not after ${parts[0]}`);
    return { window: { start, end } };
  }
  const text = (options.reference ?? "td:latest").trim();
  const m = /^td:(latest|\d+)$/.exec(text);
  if (!m) throw new UsageError(`--reference "${text}" is not td:<version> (a training dataset of the view, td:latest for the newest)`);
  return { trainingDatasetVersion: m[1] === "latest" ? 0 : Number(m[1]) };
}

const STATUS: Record<DriftStatus, string> = {
  [DriftStatus.UNSPECIFIED]: "unknown",
  [DriftStatus.OK]: "OK",
  [DriftStatus.DRIFT]: "DRIFT",
  [DriftStatus.INSUFFICIENT_DATA]: "INSUFFICIENT_DATA",
};

export const statusText = (s: DriftStatus): string => STATUS[s] ?? "unknown";

const num = (v: number | undefined, digits = 4) => (v === undefined ? "" : v.toFixed(digits));
const iso = (d: Date) => d.toISOString().replace(/\.000Z$/, "Z");
const rangeText = (r: TimeRange | undefined) => `${r?.start ? iso(timestampDate(r.start)) : "…"} .. ${r?.end ? iso(timestampDate(r.end)) : "now"}`;

/** What a report compared the window with, in words. */
export function referenceText(report: MonitoringReport): string {
  const ref = report.reference;
  if (ref.case === "trainingDatasetVersion") return `training dataset v${ref.value}`;
  if (ref.case === "referenceWindow") return `logs of ${rangeText(ref.value)}`;
  return "no reference";
}

/** A report as its header line and a table of column, psi, ks, null share, status. */
export function formatDriftReport(report: MonitoringReport): string {
  const view = report.featureView;
  const head = [
    `drift of ${view?.name ?? "?"} v${view?.version ?? "?"}: ${statusText(report.status)}`,
    `  window ${rangeText(report.window)} (${Number(report.rowCount)} rows) against ${referenceText(report)} (${Number(report.referenceRowCount)} rows)`,
    `  report ${report.id}${report.createTime ? `, ${iso(timestampDate(report.createTime))}` : ""}`,
  ];
  const rows = report.features.map((f) => [
    f.column,
    num(f.psi),
    num(f.ks),
    `${num(f.nullShare, 3)} (ref ${num(f.referenceNullShare, 3)})`,
    statusText(f.status),
    f.exceeded.join(","),
  ]);
  return [...head, "", formatTable(["column", "psi", "ks", "null share", "status", "exceeded"], rows)].join("\n");
}

function featureJson(f: FeatureDrift) {
  return {
    column: f.column,
    type: f.type ? typeName(f.type) : null,
    categorical: f.categorical,
    psi: f.psi ?? null,
    ks: f.ks ?? null,
    null_share: f.nullShare,
    reference_null_share: f.referenceNullShare,
    count: Number(f.count),
    reference_count: Number(f.referenceCount),
    status: statusText(f.status),
    exceeded: f.exceeded,
    thresholds: { psi: f.thresholds?.psi ?? null, ks: f.thresholds?.ks ?? null, null_share_increase: f.thresholds?.nullShareIncrease ?? null },
  };
}

const rangeJson = (r: TimeRange | undefined) => ({ start: r?.start ? timestampDate(r.start) : null, end: r?.end ? timestampDate(r.end) : null });

export function driftReportJson(report: MonitoringReport) {
  const ref = report.reference;
  return {
    id: Number(report.id),
    feature_view: { name: report.featureView?.name, version: report.featureView?.version },
    status: statusText(report.status),
    window: rangeJson(report.window),
    reference:
      ref.case === "trainingDatasetVersion"
        ? { training_dataset_version: ref.value }
        : ref.case === "referenceWindow"
          ? { window: rangeJson(ref.value) }
          : null,
    row_count: Number(report.rowCount),
    reference_row_count: Number(report.referenceRowCount),
    created: report.createTime ? timestampDate(report.createTime) : null,
    created_by: report.createdBy,
    features: report.features.map(featureJson),
  };
}

/** One line per stored report: id, when, window, reference, rows, status, drifted features. */
export function formatReportList(reports: readonly MonitoringReport[]): string {
  return formatTable(
    ["id", "created", "window", "reference", "rows", "status", "drifted"],
    reports.map((r) => [
      String(r.id),
      r.createTime ? iso(timestampDate(r.createTime)) : "",
      rangeText(r.window),
      referenceText(r),
      String(Number(r.rowCount)),
      statusText(r.status),
      r.features
        .filter((f) => f.status === DriftStatus.DRIFT)
        .map((f) => f.column)
        .join(","),
    ]),
  );
}

/**
 * `granary drift <view>`: computes the drift of a view version's logged vectors in a window against
 * a training dataset or an earlier window, prints the stored report, and exits 3 when it says DRIFT
 * (so a scheduled job can alert on it). `--list` prints the stored reports instead.
 */
export async function driftCommand(ctx: CommandContext, viewText: string, options: DriftOptions): Promise<void> {
  const ref = parseRef(viewText, "feature view");
  if (options.version !== undefined && ref.version !== 0 && options.version !== ref.version)
    throw new UsageError(`"${viewText}" and --version ${options.version} name different versions`);
  const version = options.version ?? ref.version;
  // Checked before any call: a mistyped flag costs nothing.
  const request = options.list
    ? undefined
    : { window: driftWindow(options, new Date()), reference: driftReference(options), columns: options.column.map((c) => c.trim()).filter((c) => c !== "") };
  const project = await ctx.project();
  const view = await project.getFeatureView(ref.name, version);
  const featureView = { name: view.name, version: view.version };
  const { metadata, offline, unary } = ctx.granary.services;

  if (!request) {
    const limit = options.limit ?? 20;
    const res = await metadata.listMonitoringReports({ project: project.name, featureView, pageSize: limit }, unary(ctx.signal));
    const reports = res.reports.slice(0, limit);
    if (ctx.json) ctx.output.out(toJson({ feature_view: featureView, reports: reports.map(driftReportJson) }));
    else if (reports.length === 0)
      ctx.output.out(`${view.name} v${view.version}: no drift reports yet (granary drift ${view.name}:${view.version} computes one)`);
    else ctx.output.out([`drift reports of ${view.name} v${view.version}, newest first:`, formatReportList(reports)].join("\n"));
    return;
  }

  const window = create(TimeRangeSchema, {
    start: timestampFromDate(request.window.start),
    end: request.window.end ? timestampFromDate(request.window.end) : undefined,
  });
  const reference =
    "trainingDatasetVersion" in request.reference
      ? { case: "trainingDatasetVersion" as const, value: request.reference.trainingDatasetVersion }
      : {
          case: "referenceWindow" as const,
          value: create(TimeRangeSchema, { start: timestampFromDate(request.reference.window.start), end: timestampFromDate(request.reference.window.end) }),
        };
  const res = await offline.computeDrift({ project: project.name, featureView, window, reference, columns: request.columns }, unary(ctx.signal));
  const report = res.report;
  if (!report) throw new CliError("the offline service answered without a report");
  ctx.output.out(ctx.json ? toJson(driftReportJson(report)) : formatDriftReport(report));
  if (report.status === DriftStatus.DRIFT) {
    const drifted = report.features.filter((f) => f.status === DriftStatus.DRIFT).map((f) => f.column);
    throw new CliError(`${view.name} v${view.version} drifted: ${drifted.join(", ")} over their thresholds (report ${report.id})`, { exitCode: EXIT_DRIFT });
  }
}
