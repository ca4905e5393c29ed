import { randomBytes } from "node:crypto";
import { lstat, mkdir, rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { DataLossError, FailedPreconditionError, NotFoundError } from "@granary/errors";
import {
  ColumnRole,
  DatasetSplit,
  DatasetFileSchema,
  type DatasetFile,
  StatisticsSchema,
  type ColumnStatistics,
  TrainingDatasetSchema,
  TrainingDatasetStatus,
  type FeatureView,
  type TrainingDataset,
} from "@granary/proto/metadata";
import type { TrainingDataQuery } from "@granary/proto/offline";
import type { Logger } from "@granary/telemetry";
import type * as arrow from "apache-arrow";
import { type DuckConnection, streamQuery, fileList, quoteString } from "../duck/index.js";
import { timestampMicros } from "../timestamps.js";
import { fsyncPath } from "../store/commit-layout.js";
import { ConfinementError } from "../store/confined-path.js";
import type { MetadataWriter } from "../upstream/metadata-writer.js";
import { fitTransformations } from "@granary/transformations";
import { SPLIT_COLUMN } from "./pit-sql.js";
import type { TrainingDeps } from "./training-deps.js";
import { TrainingOutput } from "./training-output.js";
import { valueStatistics, withMaterialised, type Materialised, type TransformSource } from "./training-data.js";
import type { TrainingQuery } from "./training-query.js";

const SPLITS = [
  { split: DatasetSplit.TRAIN, name: "train" },
  { split: DatasetSplit.VALIDATION, name: "validation" },
  { split: DatasetSplit.TEST, name: "test" },
] as const;

/**
 * Materialises training data as a new dataset version: recorded CREATING first (the version comes
 * back), the rows written to one Parquet file per split under
 * `<root>/<project>/.training/<view>/v<version>/<token>/` (made durable, then renamed into place),
 * then recorded READY with the files, the row count, the commit watermark of every source group and
 * the training split's statistics. A caller's spine is stored beside them.
 */
export async function createTrainingDataset(
  deps: TrainingDeps,
  view: FeatureView,
  q: TrainingDataQuery,
  query: TrainingQuery,
  signal: AbortSignal,
): Promise<TrainingDataset> {
  const token = `${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`;
  const dir = `${datasetsDir(q.project, view)}${token}`;
  const streamed = query.spine.kind === "streamed";
  const spineKind = q.spine?.kind;
  let dataset = await deps.metadata.createTrainingDataset(
    create(TrainingDatasetSchema, {
      project: q.project,
      featureView: { name: view.name, version: view.version },
      spine: streamed
        ? { case: "spineLocation", value: `${dir}/spine.parquet` }
        : spineKind?.case === "eventTimeRange"
          ? { case: "eventTimeRange", value: spineKind.value }
          : { case: undefined },
      extraFilter: q.extraFilter,
      split: q.split,
      status: TrainingDatasetStatus.CREATING,
    }),
  );
  const tmp = deps.layout.absolute(`${dir}.tmp`);
  try {
    const result = await withMaterialised(deps, q.project, view, query, signal, async (connection, m, snapshot, spineTable) => {
      const { files, total } = await writeSplits(connection, m, tmp, dir, signal);
      if (spineTable) await copyTo(connection, `SELECT * FROM ${spineTable}`, join(tmp, "spine.parquet"), signal);
      const stats = await valueStatistics(connection, m, view, signal, false);
      return { files, total, stats: stats.columns, statsRows: stats.rowCount, watermarks: snapshot.watermarks };
    });
    await publishDir(tmp, deps.layout.absolute(dir), [...result.files.map((f) => f.path.split("/").pop()!), ...(streamed ? ["spine.parquet"] : [])]);
    dataset = await deps.metadata.updateTrainingDataset(
      create(TrainingDatasetSchema, {
        project: q.project,
        featureView: dataset.featureView,
        version: dataset.version,
        status: TrainingDatasetStatus.READY,
        files: result.files,
        rowCount: result.total,
        statistics: result.stats,
        watermarks: result.watermarks,
      }),
      ["status", "files", "row_count", "statistics", "watermarks"],
    );
    await storeDatasetStatistics(deps, dataset, result.stats, result.statsRows);
    return dataset;
  } catch (err) {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    const message = err instanceof Error ? err.message.split("\n")[0]! : String(err);
    await markFailed(deps.metadata, { project: q.project, featureView: dataset.featureView, version: dataset.version }, message, deps.logger);
    throw err;
  }
}

/**
 * The dataset's statistics (its training split's) also as a Statistics record, so GetStatistics of
 * the dataset answers like that of a group. The dataset is READY and holds them already: a failure
 * here is logged, not returned.
 */
async function storeDatasetStatistics(deps: TrainingDeps, dataset: TrainingDataset, columns: ColumnStatistics[], rowCount: bigint): Promise<void> {
  const subject = { kind: { case: "trainingDataset" as const, value: { featureView: dataset.featureView, version: dataset.version } } };
  await deps.metadata.putStatistics(create(StatisticsSchema, { project: dataset.project, subject, columns, rowCount })).catch((err: unknown) => {
    deps.logger.warn(
      { err, project: dataset.project, view: dataset.featureView?.name, dataset: dataset.version },
      "could not store the training dataset's statistics record (the dataset holds them)",
    );
  });
}

/** Waits between attempts to mark a dataset FAILED (then it gives up, logging an error). */
export const MARK_FAILED_RETRY_MS = [250, 1000, 4000] as const;

/**
 * Records a dataset whose materialisation failed as FAILED with the reason. A failure to record it
 * is retried (the metadata service may be briefly unavailable: often the very reason the
 * materialisation failed) and, when every attempt fails, logged at error level naming the dataset,
 * which otherwise stays CREATING; the caller's original error is what the client gets either way.
 */
export async function markFailed(
  metadata: Pick<MetadataWriter, "updateTrainingDataset">,
  dataset: Pick<TrainingDataset, "project" | "featureView" | "version">,
  reason: string,
  logger: Logger,
  retryMs: readonly number[] = MARK_FAILED_RETRY_MS,
): Promise<boolean> {
  const failed = create(TrainingDatasetSchema, {
    project: dataset.project,
    featureView: dataset.featureView,
    version: dataset.version,
    status: TrainingDatasetStatus.FAILED,
    statusMessage: reason.slice(0, 500),
  });
  for (let attempt = 0; ; attempt++) {
    try {
      await metadata.updateTrainingDataset(failed, ["status", "status_message"]);
      return true;
    } catch (err) {
      const wait = retryMs[attempt];
      const where = {
        project: dataset.project,
        view: dataset.featureView?.name,
        viewVersion: dataset.featureView?.version,
        dataset: dataset.version,
        reason,
        err,
      };
      if (wait === undefined) {
        logger.error(
          { ...where, attempts: attempt + 1 },
          "could not mark a training dataset FAILED after its materialisation failed; it stays CREATING until marked by hand",
        );
        return false;
      }
      logger.warn({ ...where, attempt: attempt + 1 }, "marking a training dataset FAILED failed; retrying");
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/** Writes the materialised rows into `tmp`, one Parquet file per split with rows (one file without a split); `dir` is where they will be published, relative to the root. */
async function writeSplits(
  connection: DuckConnection,
  m: Materialised,
  tmp: string,
  dir: string,
  signal: AbortSignal,
): Promise<{ files: DatasetFile[]; total: bigint }> {
  await mkdir(tmp, { recursive: true });
  const hasSplit = m.trailing.some((t) => t.name === SPLIT_COLUMN);
  const files: DatasetFile[] = [];
  let total = 0n;
  for (const { split, name } of hasSplit ? SPLITS : [SPLITS[0]]) {
    const where = hasSplit ? ` WHERE ${SPLIT_COLUMN} = '${name}'` : "";
    const [row] = await connection.rows(`SELECT count(*) AS n FROM ${m.table}${where}`, signal);
    const rows = BigInt(row!.n as bigint);
    if (rows === 0n && hasSplit) continue;
    const file = `${name}.parquet`;
    const exclude = hasSplit ? ` EXCLUDE (${SPLIT_COLUMN})` : "";
    await copyTo(connection, `SELECT *${exclude} FROM ${m.table}${where}`, join(tmp, file), signal);
    files.push(create(DatasetFileSchema, { split, path: `${dir}/${file}`, rowCount: rows, sizeBytes: BigInt((await stat(join(tmp, file))).size) }));
    total += rows;
  }
  return { files, total };
}

/** Makes a written dataset directory durable and renames it into place. */
async function publishDir(tmp: string, final: string, files: readonly string[]): Promise<void> {
  for (const f of files) await fsyncPath(join(tmp, f));
  await fsyncPath(tmp);
  await rename(tmp, final);
  await fsyncPath(dirname(final));
}

/**
 * Writes a READY dataset's files again, when its directory is gone, from what its record holds:
 * its time range, filter and split, every source group read as of its recorded commit watermark
 * (never a later commit, so data that arrived since, late or not, changes nothing), the view
 * version's definition. The rows are checked against the recorded row count of every split. Not
 * recorded, so not rebuilt: a caller's spine (it lived in the same directory) and the
 * include_event_times / include_training_helpers flags (the rebuild has neither).
 */
export async function rebuildTrainingDataset(
  deps: TrainingDeps,
  project: string,
  view: FeatureView,
  dataset: TrainingDataset,
  dir: string,
  signal: AbortSignal,
): Promise<void> {
  const name = `training dataset ${dataset.version} of feature view "${view.name}" version ${view.version}`;
  if (dataset.spine.case === "spineLocation")
    throw new DataLossError(`${name} cannot be read: its files are gone, and it was built from a caller's spine, which was stored with them`);
  const range = dataset.spine.case === "eventTimeRange" ? dataset.spine.value : undefined;
  const query: TrainingQuery = {
    spine: {
      kind: "range",
      startMicros: range?.start ? timestampMicros(range.start) : undefined,
      endMicros: range?.end ? timestampMicros(range.end) : undefined,
    },
    roles: new Set([ColumnRole.FEATURE, ColumnRole.LABEL]),
    includeEventTimes: false,
    extraFilter: dataset.extraFilter,
    split: dataset.split,
  };
  const tmp = deps.layout.absolute(`${dir}.rebuild-${randomBytes(4).toString("hex")}`);
  try {
    const { files } = await withMaterialised(
      deps,
      project,
      view,
      query,
      signal,
      (connection, m) => writeSplits(connection, m, tmp, dir, signal),
      dataset.watermarks,
    );
    const counts = (list: readonly DatasetFile[]) =>
      list
        .map((f) => `${f.path}:${f.rowCount}`)
        .sort()
        .join(",");
    if (counts(files) !== counts(dataset.files)) {
      throw new DataLossError(
        `${name} cannot be read: its files are gone, and rebuilding it from its recorded commits gives other row counts than it recorded (commits it read may be gone)`,
      );
    }
    await mkdir(dirname(deps.layout.absolute(dir)), { recursive: true });
    try {
      await publishDir(
        tmp,
        deps.layout.absolute(dir),
        files.map((f) => f.path.split("/").pop()!),
      );
    } catch (err) {
      // Another read rebuilt it first: the same rows.
      if (!["ENOTEMPTY", "EEXIST"].includes((err as NodeJS.ErrnoException).code ?? "")) throw err;
    }
    deps.logger.warn(
      {
        project,
        view: view.name,
        viewVersion: view.version,
        dataset: dataset.version,
        watermarks: dataset.watermarks.map((w) => `${w.featureGroup?.name}@${w.commitId}`),
      },
      "rebuilt a training dataset whose files were gone from its recorded commit watermarks",
    );
  } finally {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
  }
}

async function copyTo(connection: DuckConnection, sql: string, path: string, signal: AbortSignal): Promise<void> {
  await connection.run(`COPY (${sql}) TO ${quoteString(path)} (FORMAT parquet)`, signal);
}

/**
 * The stored rows of a dataset version (one split, or all with a `split` column), byte for byte
 * what was materialised, so later inserts never change them. Transformations use the statistics
 * stored with the dataset.
 */
export async function* readTrainingDataset(
  deps: TrainingDeps,
  project: string,
  view: FeatureView,
  version: number,
  split: DatasetSplit,
  untransformed: boolean,
  signal: AbortSignal,
): AsyncGenerator<Uint8Array> {
  const dataset = await datasetOf(deps, project, view, version);
  if (dataset.status !== TrainingDatasetStatus.READY) {
    throw new FailedPreconditionError(
      `training dataset ${dataset.version} of feature view "${view.name}" version ${view.version} is ${TrainingDatasetStatus[dataset.status]}, not READY${dataset.statusMessage ? `: ${dataset.statusMessage}` : ""}`,
    );
  }
  const wanted = split === DatasetSplit.UNSPECIFIED ? SPLITS : SPLITS.filter((s) => s.split === split);
  const withSplit = split === DatasetSplit.UNSPECIFIED && dataset.split?.kind.case !== undefined;
  const paths = await readableDatasetFiles(deps, project, view, dataset, signal);
  const parts = wanted.flatMap(({ split: s, name }) => {
    const files = dataset.files.filter((f) => f.split === s).map((f) => paths.get(f.path)!);
    if (files.length === 0) return [];
    return [`SELECT *${withSplit ? `, '${name}' AS ${SPLIT_COLUMN}` : ""} FROM read_parquet(${fileList(files)})`];
  });
  if (parts.length === 0) {
    throw new NotFoundError(
      `training dataset ${dataset.version} of feature view "${view.name}" version ${view.version} has no ${split === DatasetSplit.UNSPECIFIED ? "" : `${DatasetSplit[split].toLowerCase()} `}rows`,
    );
  }
  const outputs = new Map(view.outputColumns.map((c) => [c.name, c.type!]));
  const fitted =
    !untransformed && view.transformations.length > 0
      ? fitTransformations(
          view.transformations.map((t) => ({ column: t.column, fn: t.function })),
          dataset.statistics,
        )
      : undefined;
  const sql = parts.join(" UNION ALL ");
  let output: TrainingOutput | undefined;
  const transform = {
    schema: (schema: arrow.Schema) => {
      const values = schema.fields.filter((f) => outputs.has(f.name)).map((f) => ({ name: f.name, type: outputs.get(f.name)! }));
      const trailing = schema.fields.filter((f) => !outputs.has(f.name)).map((f) => f.name);
      output = new TrainingOutput({ values, onDemand: [], trailing, parameters: new Map(), transformations: fitted });
      return output.schema(schema);
    },
    apply: (batch: arrow.RecordBatch) => output!.apply(batch),
  };
  yield* streamQuery(deps.engine, sql, deps.messageBytes, signal, { project, source: view.name, operation: "training_dataset" }, transform);
}

/** The checked real paths of a dataset's files (see datasetFiles), by recorded path; a dataset whose directory is gone is rebuilt first. */
export async function readableDatasetFiles(
  deps: TrainingDeps,
  project: string,
  view: FeatureView,
  dataset: TrainingDataset,
  signal: AbortSignal,
): Promise<Map<string, string>> {
  try {
    return await datasetFiles(deps, project, view, dataset);
  } catch (err) {
    if (!(err instanceof DatasetGoneError)) throw err;
    await rebuildTrainingDataset(deps, project, view, dataset, err.dir, signal);
    return datasetFiles(deps, project, view, dataset);
  }
}

/** Where the datasets of a view version live, relative to the root (with a trailing slash). */
const datasetsDir = (project: string, view: FeatureView) => `${project}/.training/${view.name}/v${view.version}/`;
const TOKEN = /^[0-9a-z]+-[0-9a-f]{8}$/;

/**
 * The real paths of a dataset's files, each checked to lie inside the one directory
 * createTrainingDataset made for the dataset (symlinks followed; see ConfinedRoot): a record that
 * names any other file is refused whole with DATA_LOSS naming the dataset version, never a path
 * (the reasoning of CommitFiles).
 */
async function datasetFiles(deps: TrainingDeps, project: string, view: FeatureView, dataset: TrainingDataset): Promise<Map<string, string>> {
  const base = datasetsDir(project, view);
  const out = new Map<string, string>();
  const token = dataset.files[0]?.path.slice(base.length).split("/")[0] ?? "";
  for (const { path } of dataset.files) {
    try {
      const rest = path.startsWith(base) ? path.slice(base.length).split("/") : [];
      if (rest.length !== 2 || rest[0] !== token || !TOKEN.test(token)) throw new ConfinementError("a path outside its directory");
      out.set(path, await deps.layout.confined.resolve(path, `${base}${token}/`));
    } catch (err) {
      if (!(err instanceof ConfinementError)) throw err;
      // The whole directory gone (nothing there, not even a link): rebuilt from the record. A
      // directory missing some of its files is not: something else happened to it.
      if (err.missing && (await absent(deps.layout.absolute(`${base}${token}`)))) throw new DatasetGoneError(`${base}${token}`);
      deps.logger.warn(
        { project, view: view.name, viewVersion: view.version, dataset: dataset.version, file: path, reason: err.reason },
        "refusing to read a training dataset whose file lies outside its directory (a corrupt or forged record)",
      );
      throw new DataLossError(
        `training dataset ${dataset.version} of feature view "${view.name}" version ${view.version} cannot be read: it lists ${err.publicReason}; the record is corrupt or forged (the server logged the details)`,
      );
    }
  }
  return out;
}

/** A dataset whose directory (`dir`, relative to the root) no longer exists. */
class DatasetGoneError extends Error {
  constructor(readonly dir: string) {
    super("the training dataset's directory is gone");
  }
}

async function absent(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return false;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return true;
    throw err;
  }
}

/** A dataset version from the catalogue, waiting briefly for one created a moment ago. */
export async function datasetOf(deps: TrainingDeps, project: string, view: FeatureView, version: number): Promise<TrainingDataset> {
  for (let attempt = 0; ; attempt++) {
    const dataset = deps.catalogue.trainingDataset(project, view.name, view.version, version);
    if (dataset && (dataset.status === TrainingDatasetStatus.READY || attempt >= 20)) return dataset;
    if (attempt >= 20) {
      throw new NotFoundError(`feature view "${view.name}" version ${view.version} has no training dataset${version ? ` ${version}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Where batch data's model-dependent transformations take their statistics from: a training
 * dataset of the view (the given version, else the latest), which must exist.
 */
export async function batchTransformSource(deps: TrainingDeps, project: string, view: FeatureView, datasetVersion: number): Promise<TransformSource> {
  if (view.transformations.length === 0) return { kind: "none" };
  const dataset = await datasetOf(deps, project, view, datasetVersion).catch(() => undefined);
  if (!dataset) {
    throw new FailedPreconditionError(
      `feature view "${view.name}" version ${view.version} has model-dependent transformations but no training dataset${datasetVersion ? ` ${datasetVersion}` : ""} to take their statistics from; create one, or ask for untransformed values`,
    );
  }
  return { kind: "statistics", statistics: dataset.statistics };
}
