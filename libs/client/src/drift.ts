import { clone, create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  DriftStatus,
  DriftThresholdsSchema,
  FeatureDriftThresholdsSchema,
  FeatureViewSchema,
  MonitoringConfigSchema,
  type DriftThresholds,
  type FeatureView as FeatureViewMessage,
  type MonitoringReport,
} from "@granary/proto/metadata";
import type { TimeRange } from "@granary/proto/types";
import { typeName } from "./column-types.js";
import type { Services } from "./services.js";

/** A feature's (or a report's) drift status, as the SDK, CLI and console name it. */
export type DriftStatusName = "ok" | "drift" | "insufficient_data";

/** A window of log time: from `start` (inclusive) to `end` (exclusive; unset: now). */
export interface DriftWindow {
  readonly start: Date;
  readonly end?: Date;
}

export interface ComputeDriftOptions {
  /** The logged vectors to check. */
  readonly window: DriftWindow;
  /** What they are compared with: a training dataset version of the view (the default: the latest), or an earlier window of the same logs. */
  readonly reference?: { readonly trainingDatasetVersion: number } | { readonly window: DriftWindow };
  /** Output columns to check; default: every logged feature (untransformed), labels and lists left out. */
  readonly columns?: readonly string[];
  readonly signal?: AbortSignal;
}

/** Thresholds of one feature; an unset one is not checked. */
export interface DriftThresholdValues {
  readonly psi?: number;
  readonly ks?: number;
  /** Increase of the share of nulls over the reference (0.1 = ten points). */
  readonly nullShareIncrease?: number;
}

export interface DriftThresholdSettings {
  /** Thresholds of every feature without its own (unset: psi 0.2, ks 0.2, nullShareIncrease 0.1). */
  readonly default?: DriftThresholdValues;
  /** Per-feature thresholds by output column name; they replace the default ones of that feature. */
  readonly features?: Readonly<Record<string, DriftThresholdValues>>;
}

export interface FeatureDriftEntry {
  readonly column: string;
  readonly type: string;
  readonly categorical: boolean;
  /** Population stability index; undefined when it could not be computed (no values on a side, or a list column). */
  readonly psi: number | undefined;
  /** Two-sample Kolmogorov-Smirnov statistic (numeric features only). */
  readonly ks: number | undefined;
  readonly nullShare: number;
  readonly referenceNullShare: number;
  readonly count: number;
  readonly referenceCount: number;
  readonly status: DriftStatusName;
  /** The statistics over their threshold: "psi", "ks", "null_share_increase". */
  readonly exceeded: readonly string[];
  readonly thresholds: DriftThresholdValues;
}

/** A monitoring report as a plain object. */
export interface DriftReport {
  readonly id: number;
  readonly project: string;
  readonly featureView: { readonly name: string; readonly version: number };
  readonly window: { readonly start: Date | undefined; readonly end: Date | undefined };
  readonly reference: { readonly trainingDatasetVersion: number } | { readonly window: { readonly start: Date | undefined; readonly end: Date | undefined } };
  readonly rowCount: number;
  readonly referenceRowCount: number;
  readonly status: DriftStatusName;
  readonly features: readonly FeatureDriftEntry[];
  readonly createTime: Date | undefined;
  readonly createdBy: string;
}

const STATUS_NAMES: Readonly<Record<number, DriftStatusName>> = {
  [DriftStatus.OK]: "ok",
  [DriftStatus.DRIFT]: "drift",
  [DriftStatus.INSUFFICIENT_DATA]: "insufficient_data",
};

export function driftStatusName(status: DriftStatus): DriftStatusName {
  return STATUS_NAMES[status] ?? "insufficient_data";
}

function plainRange(range: TimeRange | undefined) {
  return { start: range?.start ? timestampDate(range.start) : undefined, end: range?.end ? timestampDate(range.end) : undefined };
}

function plainThresholds(t: DriftThresholds | undefined): DriftThresholdValues {
  return { psi: t?.psi, ks: t?.ks, nullShareIncrease: t?.nullShareIncrease };
}

/** A MonitoringReport message as a plain object (numbers for counts, Dates for times, status names). */
export function plainDriftReport(report: MonitoringReport): DriftReport {
  return {
    id: Number(report.id),
    project: report.project,
    featureView: { name: report.featureView?.name ?? "", version: report.featureView?.version ?? 0 },
    window: plainRange(report.window),
    reference:
      report.reference.case === "referenceWindow"
        ? { window: plainRange(report.reference.value) }
        : { trainingDatasetVersion: report.reference.case === "trainingDatasetVersion" ? report.reference.value : 0 },
    rowCount: Number(report.rowCount),
    referenceRowCount: Number(report.referenceRowCount),
    status: driftStatusName(report.status),
    features: report.features.map((f) => ({
      column: f.column,
      type: typeName(f.type),
      categorical: f.categorical,
      psi: f.psi,
      ks: f.ks,
      nullShare: f.nullShare,
      referenceNullShare: f.referenceNullShare,
      count: Number(f.count),
      referenceCount: Number(f.referenceCount),
      status: driftStatusName(f.status),
      exceeded: f.exceeded,
      thresholds: plainThresholds(f.thresholds),
    })),
    createTime: report.createTime ? timestampDate(report.createTime) : undefined,
    createdBy: report.createdBy,
  };
}

function timeRange(window: DriftWindow, field: string): TimeRange {
  if (!(window.start instanceof Date) || Number.isNaN(window.start.getTime())) throw new TypeError(`${field}.start must be a valid Date`);
  if (window.end !== undefined && (!(window.end instanceof Date) || Number.isNaN(window.end.getTime()))) {
    throw new TypeError(`${field}.end must be a valid Date when given`);
  }
  return {
    $typeName: "granary.types.v1.TimeRange",
    start: timestampFromMs(window.start.getTime()),
    end: window.end ? timestampFromMs(window.end.getTime()) : undefined,
  };
}

/** ComputeDrift of a view version on the offline service; the report is stored and returned. */
export async function computeDrift(
  services: Services,
  project: string,
  view: { name: string; version: number },
  options: ComputeDriftOptions,
): Promise<DriftReport> {
  const ref = options.reference;
  const reference =
    ref && "window" in ref
      ? { case: "referenceWindow" as const, value: timeRange(ref.window, "reference.window") }
      : { case: "trainingDatasetVersion" as const, value: ref?.trainingDatasetVersion ?? 0 };
  const res = await services.offline.computeDrift(
    { project, featureView: view, window: timeRange(options.window, "window"), reference, columns: [...(options.columns ?? [])] },
    services.unary(options.signal),
  );
  return plainDriftReport(res.report!);
}

/** Stored reports of a view version, newest first (at most `limit`, default 20). */
export async function monitoringReports(
  services: Services,
  project: string,
  view: { name: string; version: number },
  options: { limit?: number; signal?: AbortSignal },
): Promise<DriftReport[]> {
  const limit = options.limit ?? 20;
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`);
  const out: DriftReport[] = [];
  let pageToken = "";
  do {
    const page = await services.metadata.listMonitoringReports(
      { project, featureView: view, pageSize: Math.min(limit - out.length, 1000), pageToken },
      services.unary(options.signal),
    );
    out.push(...page.reports.map(plainDriftReport));
    pageToken = page.nextPageToken;
  } while (pageToken !== "" && out.length < limit);
  return out.slice(0, limit);
}

function thresholdsMessage(t: DriftThresholdValues, field: string): DriftThresholds {
  for (const [k, v] of Object.entries(t)) {
    if (!["psi", "ks", "nullShareIncrease"].includes(k)) throw new TypeError(`${field}.${k} is not a threshold (psi, ks, nullShareIncrease)`);
    if (v !== undefined && (typeof v !== "number" || !Number.isFinite(v) || v < 0)) throw new RangeError(`${field}.${k} must be a finite number of 0 or more`);
  }
  return create(DriftThresholdsSchema, { psi: t.psi, ks: t.ks, nullShareIncrease: t.nullShareIncrease });
}

/** The view with its monitoring settings replaced (UpdateFeatureView, mask "monitoring"); returns the updated view. */
export async function setDriftThresholds(services: Services, view: FeatureViewMessage, settings: DriftThresholdSettings): Promise<FeatureViewMessage> {
  const next = clone(FeatureViewSchema, view);
  next.monitoring = create(MonitoringConfigSchema, {
    defaultThresholds: settings.default ? thresholdsMessage(settings.default, "default") : undefined,
    features: Object.entries(settings.features ?? {}).map(([column, t]) =>
      create(FeatureDriftThresholdsSchema, { column, thresholds: thresholdsMessage(t, `features.${column}`) }),
    ),
  });
  const res = await services.metadata.updateFeatureView({ featureView: next, updateMask: { paths: ["monitoring"] } }, services.unary());
  return res.featureView!;
}
