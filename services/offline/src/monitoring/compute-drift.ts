import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from "@granary/errors";
import {
  ColumnRole,
  DatasetSplit,
  DriftStatus,
  FeatureDriftSchema,
  MonitoringReportSchema,
  TrainingDatasetStatus,
  type FeatureGroup,
  type FeatureView,
  type MonitoringReport,
} from "@granary/proto/metadata";
import type { ComputeDriftRequest } from "@granary/proto/offline";
import { TimeRangeSchema, type DataType, type FeatureGroupRef, type TimeRange } from "@granary/proto/types";
import { type DuckConnection, fileList, quoteIdent, tempName, timestampLiteral } from "../duck/index.js";
import { groupSourceSql } from "../read/group-source.js";
import { timestampMicros } from "../timestamps.js";
import { datasetOf, readableDatasetFiles } from "../training/training-datasets.js";
import type { TrainingDeps } from "../training/training-deps.js";
import { columnDrift, driftKind } from "./column-drift.js";
import { MIN_VALUES, featureStatus, thresholdsFor, worstStatus } from "./drift-math.js";
import { driftMetrics, type DriftMetrics } from "./drift-metrics.js";

export interface DriftDeps extends TrainingDeps {
  /** The gauges to record in; the process's by default. */
  readonly driftMetrics?: DriftMetrics;
}

/** The column of the logging group holding each vector's log time (its event time). */
const LOG_TIME = "log_time";

interface Window {
  readonly range: TimeRange;
  readonly startMicros: bigint | undefined;
  readonly endMicros: bigint;
}

/**
 * ComputeDrift: the drift of a view version's logged features in a window of log time against a
 * training dataset of the view (its train split) or an earlier window of the same logs, feature by
 * feature (see column-drift.ts, drift-math.ts), stored as a monitoring report in the metadata
 * service, recorded in the drift gauges and returned. `createdBy` is the caller.
 */
export async function computeDrift(
  deps: DriftDeps,
  view: FeatureView,
  req: ComputeDriftRequest,
  createdBy: string,
  signal: AbortSignal,
): Promise<MonitoringReport> {
  const now = BigInt(Date.now()) * 1000n;
  const window = windowOf(req.window, "window", now);
  const referenceWindow = req.reference.case === "referenceWindow" ? windowOf(req.reference.value, "reference_window", now) : undefined;
  // Thresholds and the logging group as the catalogue holds them now: a view's settings are mutable,
  // and "set thresholds, then compute" must not race the change stream that updates this replica.
  const current = await deps.metadata.getFeatureView(view.project, { name: view.name, version: view.version });
  const settings = { monitoring: current.monitoring, loggingFeatureGroup: current.loggingFeatureGroup ?? view.loggingFeatureGroup };
  const group = loggingGroupOf(deps, view, settings.loggingFeatureGroup);
  const columns = driftColumns(view, group, req.columns);

  const commits = deps.commits.commits(view.project, group.name, group.version);
  const files = await deps.layout.files.filesOf({ project: view.project, name: group.name, version: group.version }, commits, deps.logger);
  const logs = groupSourceSql(files, group, commits, { columns: [...columns.map((c) => c.name), LOG_TIME] });
  const logsIn = (w: Window) => {
    const bounds = [
      ...(w.startMicros === undefined ? [] : [`${quoteIdent(LOG_TIME)} >= ${timestampLiteral(w.startMicros)}`]),
      `${quoteIdent(LOG_TIME)} < ${timestampLiteral(w.endMicros)}`,
    ];
    return `SELECT ${columns.map((c) => quoteIdent(c.name)).join(", ") || "1 AS _row"} FROM ${logs} l WHERE ${bounds.join(" AND ")}`;
  };

  let referenceSql: string;
  let datasetVersion = 0;
  if (referenceWindow) {
    referenceSql = logsIn(referenceWindow);
  } else {
    const dataset = await referenceDataset(deps, view, req.reference.case === "trainingDatasetVersion" ? req.reference.value : 0);
    datasetVersion = dataset.version;
    const paths = await readableDatasetFiles(deps, view.project, view, dataset, signal);
    const train = dataset.files.filter((f) => f.split === DatasetSplit.TRAIN);
    const chosen = (train.length > 0 ? train : dataset.files).map((f) => paths.get(f.path)!);
    referenceSql = `read_parquet(${fileList(chosen)}, union_by_name = true)`;
  }

  const report = await deps.engine.withConnection(async (c) => {
    const actual = tempName("drift_actual");
    const reference = tempName("drift_reference");
    try {
      if (!referenceWindow) await checkDatasetColumns(c, referenceSql, columns, req.columns.length > 0, datasetVersion, signal);
      const kept = referenceWindow ? columns : columns.filter((col) => col.inReference);
      const names = kept.map((col) => quoteIdent(col.name)).join(", ") || "1 AS _row";
      await c.run(`CREATE TEMP TABLE ${actual} AS ${logsIn(window)}`, signal);
      await c.run(`CREATE TEMP TABLE ${reference} AS SELECT ${names} FROM ${referenceWindow ? `(${referenceSql})` : referenceSql}`, signal);
      const [counts] = await c.rows(`SELECT (SELECT count(*) FROM ${actual}) AS n, (SELECT count(*) FROM ${reference}) AS r`, signal);
      const features = [];
      for (const col of kept) {
        const m = await columnDrift(c, reference, actual, col, signal);
        const thresholds = thresholdsFor(settings.monitoring, col.name);
        const { status, exceeded } = featureStatus(m, thresholds);
        features.push(
          create(FeatureDriftSchema, {
            column: col.name,
            type: col.type,
            categorical: m.kind === "categorical",
            psi: m.psi,
            ks: m.ks,
            nullShare: m.nullShare,
            referenceNullShare: m.referenceNullShare,
            count: BigInt(m.rows),
            referenceCount: BigInt(m.referenceRows),
            status,
            exceeded,
            thresholds,
          }),
        );
      }
      const rowCount = BigInt(Number(counts!.n));
      const referenceRowCount = BigInt(Number(counts!.r));
      const enough = rowCount >= BigInt(MIN_VALUES) && referenceRowCount >= BigInt(MIN_VALUES);
      return create(MonitoringReportSchema, {
        project: view.project,
        featureView: { name: view.name, version: view.version },
        window: window.range,
        reference: referenceWindow ? { case: "referenceWindow", value: referenceWindow.range } : { case: "trainingDatasetVersion", value: datasetVersion },
        rowCount,
        referenceRowCount,
        // An empty window is a report of INSUFFICIENT_DATA, not an error: a quiet day is worth recording.
        status: worstStatus(
          features.map((f) => f.status),
          enough ? DriftStatus.OK : DriftStatus.INSUFFICIENT_DATA,
        ),
        features,
        createdBy,
      });
    } finally {
      await c.run(`DROP TABLE IF EXISTS ${actual}`).catch(() => {});
      await c.run(`DROP TABLE IF EXISTS ${reference}`).catch(() => {});
    }
  }, signal);

  const stored = await deps.metadata.createMonitoringReport(report);
  (deps.driftMetrics ?? driftMetrics()).record(stored);
  return stored;
}

/** A window of log time: start inclusive (unset: the first log), end exclusive (unset: now); an end before the start is refused. */
function windowOf(range: TimeRange | undefined, field: string, now: bigint): Window {
  const startMicros = range?.start ? timestampMicros(range.start) : undefined;
  const endMicros = range?.end ? timestampMicros(range.end) : now;
  if (startMicros !== undefined && endMicros < startMicros) {
    throw new InvalidArgumentError(`${field}: the end (${iso(endMicros)}) is before the start (${iso(startMicros)})`, { field: `${field}.end` });
  }
  return { range: create(TimeRangeSchema, { start: range?.start, end: range?.end ?? timestampFromMs(Number(now / 1000n)) }), startMicros, endMicros };
}

const iso = (micros: bigint) => new Date(Number(micros / 1000n)).toISOString();

/** The view version's logging feature group, which must exist: logs are what drift is computed on. */
function loggingGroupOf(deps: DriftDeps, view: FeatureView, ref: FeatureGroupRef | undefined): FeatureGroup {
  const group = deps.catalogue.featureGroup(view.project, ref?.name || `${view.name}_${view.version}_logging`, ref?.version || 1);
  if (!group) {
    throw new FailedPreconditionError(
      `feature view "${view.name}" version ${view.version} has no logged vectors to monitor: log the vectors served with LogFeatures (fv.log in the SDK) or enable the online service's logging (EnableFeatureLogging) first`,
    );
  }
  return group;
}

interface DriftColumn {
  readonly name: string;
  readonly type: DataType;
  /** Whether the reference (a training dataset) has it; set by checkDatasetColumns. */
  inReference: boolean;
}

/**
 * The columns to compare: the named ones, each a logged (non-label) output column of the view; by
 * default every logged output column whose values can be compared (lists and embeddings left out).
 */
function driftColumns(view: FeatureView, group: FeatureGroup, requested: readonly string[]): DriftColumn[] {
  const logged = new Set(group.columns.map((c) => c.name));
  const candidates = view.outputColumns.filter((c) => c.role !== ColumnRole.LABEL && logged.has(c.name));
  if (requested.length === 0) {
    return candidates.filter((c) => driftKind(c.type!) !== "nulls").map((c) => ({ name: c.name, type: c.type!, inReference: true }));
  }
  if (new Set(requested).size !== requested.length) throw new InvalidArgumentError("columns: a column is listed twice", { field: "columns" });
  const byName = new Map(candidates.map((c) => [c.name, c]));
  const unknown = requested.filter((r) => !byName.has(r));
  if (unknown.length > 0) {
    throw new InvalidArgumentError(
      `columns: ${unknown.map((u) => `"${u}"`).join(", ")} ${unknown.length === 1 ? "is not a logged feature" : "are not logged features"} of feature view "${view.name}" version ${view.version} (it logs ${[...byName.keys()].join(", ") || "none"})`,
      { field: "columns" },
    );
  }
  return requested.map((r) => ({ name: r, type: byName.get(r)!.type!, inReference: true }));
}

/** The training dataset to compare with (0: the latest), READY. */
async function referenceDataset(deps: DriftDeps, view: FeatureView, version: number) {
  // datasetOf waits briefly for a dataset the catalogue has not shown this replica yet.
  const dataset = await datasetOf(deps, view.project, view, version).catch((err: unknown) => {
    if (err instanceof NotFoundError && version === 0) {
      throw new FailedPreconditionError(
        `feature view "${view.name}" version ${view.version} has no training dataset to compare the logs with: create one, or give a reference_window of earlier logs`,
      );
    }
    throw err;
  });
  if (dataset.status !== TrainingDatasetStatus.READY) {
    throw new FailedPreconditionError(
      `training dataset ${dataset.version} of feature view "${view.name}" version ${view.version} is ${TrainingDatasetStatus[dataset.status]}, not READY`,
    );
  }
  return dataset;
}

/** Marks the columns the dataset's files hold; a named column they lack is refused, a default one left out. */
async function checkDatasetColumns(
  c: DuckConnection,
  relation: string,
  columns: DriftColumn[],
  named: boolean,
  version: number,
  signal: AbortSignal,
): Promise<void> {
  const described = await c.rows(`DESCRIBE SELECT * FROM ${relation}`, signal);
  const present = new Set(described.map((r) => String(r.column_name)));
  const missing = columns.filter((col) => !present.has(col.name));
  if (named && missing.length > 0) {
    throw new InvalidArgumentError(
      `columns: training dataset ${version} has no ${missing.map((m) => `"${m.name}"`).join(", ")}; compare it with a reference_window instead`,
      { field: "columns" },
    );
  }
  for (const col of columns) col.inReference = present.has(col.name);
}
