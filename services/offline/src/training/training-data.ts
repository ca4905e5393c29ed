import { NotFoundError } from "@granary/errors";
import { ColumnRole, TransformationFunction, type ColumnStatistics, type CommitWatermark, type FeatureView } from "@granary/proto/metadata";
import { ScalarType, type DataType } from "@granary/proto/types";
import { fitTransformations, type FittedTransformation } from "@granary/transformations";
import type * as arrow from "apache-arrow";
import { ArrowStager, stageColumn, queryBatches, rowsForBytes, type DuckConnection, type DuckEngine, streamOn, quoteIdent, tempName } from "../duck/index.js";
import { computeStatistics, type StatisticsColumn } from "../stats/column-statistics.js";
import { compileOnDemand, type OnDemandColumn } from "./on-demand.js";
import { SPLIT_COLUMN, type PitQuery } from "./pit-sql.js";
import type { TrainingDeps } from "./training-deps.js";
import { TrainingOutput } from "./training-output.js";
import { buildPitQuery, snapshotFiles, snapshotOf, type Snapshot, type TrainingQuery } from "./training-query.js";
import { compileViewPlan, type ViewPlan } from "./view-plan.js";

/** Where model-dependent transformations take their parameters from. */
export type TransformSource =
  | { readonly kind: "none" }
  /** The training split of the rows being produced (GetTrainingData). */
  | { readonly kind: "training-split" }
  /** A training dataset's stored statistics (batch data, stored datasets). */
  | { readonly kind: "statistics"; readonly statistics: readonly ColumnStatistics[] };

const STRING: DataType = { scalar: ScalarType.STRING, list: false, dimension: 0 } as DataType;
const TIMESTAMP: DataType = { scalar: ScalarType.TIMESTAMP, list: false, dimension: 0 } as DataType;

export function planOf(deps: TrainingDeps, project: string, view: FeatureView): ViewPlan {
  return compileViewPlan(view, (name, version) => deps.catalogue.featureGroup(project, name, version));
}

/** A materialised result: a temporary table with its value and trailing columns, in order. */
export interface Materialised {
  readonly table: string;
  readonly values: readonly { name: string; type: DataType }[];
  readonly trailing: readonly { name: string; type: DataType }[];
}

/**
 * Point-in-time training or batch data as an Arrow IPC stream. Without transformations (or with
 * given statistics) the join streams straight out, on-demand features and transformations applied
 * batch by batch. When the transformations take this data's training split, a first pass keeps
 * only the transformed columns of the training rows (a small table), their statistics fit the
 * transformations, and a second pass streams the join out transformed: the same query, so the
 * same rows and split. Only a transformation of an on-demand feature (computed here, not in
 * DuckDB) needs the whole result materialised first.
 */
export async function* streamTrainingData(
  deps: TrainingDeps,
  project: string,
  view: FeatureView,
  query: TrainingQuery,
  source: TransformSource,
  signal: AbortSignal,
): AsyncGenerator<Uint8Array> {
  const plan = planOf(deps, project, view);
  const snapshot = snapshotOf(project, plan, deps.commits);
  const files = await snapshotFiles(deps.layout, project, plan, snapshot, deps.logger);
  const onDemand = compileOnDemand(view);
  const labels = { project, source: view.name, operation: "training_data" } as const;
  const connection = await deps.engine.acquire(signal);
  const tables: string[] = [];
  try {
    const pit = await buildPitQuery(connection, plan, snapshot, files, query, tables, signal);
    const transforms = view.transformations.length > 0 && source.kind !== "none";
    if (transforms && source.kind === "training-split" && !view.transformations.some((t) => onDemand.some((o) => o.name === t.column))) {
      const fitted = fit(view, await trainingSplitStatistics(connection, pit, view, tables, signal));
      yield* streamOn(connection, pit.sql, deps.messageBytes, signal, labels, outputOf(pit, onDemand, fitted));
      return;
    }
    if (transforms && source.kind === "training-split") {
      const m = await materialise(deps.engine, connection, pit, onDemand, tables, signal);
      const stats = await valueStatistics(connection, m, view, signal, true);
      const fitted = fit(view, stats);
      const output = new TrainingOutput({
        values: m.values,
        onDemand: [],
        trailing: m.trailing.map((t) => t.name),
        parameters: new Map(),
        transformations: fitted,
      });
      yield* streamOn(connection, `SELECT * FROM ${m.table}`, deps.messageBytes, signal, labels, output);
      return;
    }
    const fitted = transforms && source.kind === "statistics" ? fit(view, source.statistics) : undefined;
    yield* streamOn(connection, pit.sql, deps.messageBytes, signal, labels, outputOf(pit, onDemand, fitted));
  } finally {
    await dropTables(connection, tables);
    await deps.engine.release(connection);
  }
}

/**
 * Runs `fn` with the query materialised (on-demand values included) on a held connection. With
 * `watermarks`, every source group is read as of its recorded commit (a dataset's rebuild), else as
 * of now.
 */
export async function withMaterialised<T>(
  deps: TrainingDeps,
  project: string,
  view: FeatureView,
  query: TrainingQuery,
  signal: AbortSignal,
  fn: (connection: DuckConnection, m: Materialised, snapshot: Snapshot, spineTable: string | undefined) => Promise<T>,
  watermarks?: readonly CommitWatermark[],
): Promise<T> {
  const plan = planOf(deps, project, view);
  const snapshot = snapshotOf(project, plan, deps.commits, watermarks);
  const files = await snapshotFiles(deps.layout, project, plan, snapshot, deps.logger);
  const onDemand = compileOnDemand(view);
  const connection = await deps.engine.acquire(signal);
  const tables: string[] = [];
  try {
    const pit = await buildPitQuery(connection, plan, snapshot, files, query, tables, signal);
    const m = await materialise(deps.engine, connection, pit, onDemand, tables, signal);
    return await fn(connection, m, snapshot, pit.spineTable);
  } finally {
    await dropTables(connection, tables);
    await deps.engine.release(connection);
  }
}

function outputOf(pit: PitQuery, onDemand: readonly OnDemandColumn[], fitted: ReadonlyMap<string, FittedTransformation> | undefined): TrainingOutput {
  const values = pit.columns.flatMap((c) => (c.kind === "output" ? [{ name: c.name, type: c.output.type! }] : []));
  const trailing = pit.columns.flatMap((c) => (c.kind === "event_time" || c.kind === "split" ? [c.name] : []));
  const parameters = new Map(pit.columns.flatMap((c) => (c.kind === "parameter" ? [[c.parameter, c.name] as const] : [])));
  return new TrainingOutput({ values, onDemand, trailing, parameters, transformations: fitted });
}

async function materialise(
  engine: DuckEngine,
  connection: DuckConnection,
  pit: PitQuery,
  onDemand: readonly OnDemandColumn[],
  tables: string[],
  signal: AbortSignal,
): Promise<Materialised> {
  // A shared (not temporary) table: the on-demand path fills it from a second connection.
  const table = tempName("td");
  tables.push(table);
  const values = [
    ...pit.columns.flatMap((c) => (c.kind === "output" ? [{ name: c.name, type: c.output.type! }] : [])),
    ...onDemand.map((o) => ({ name: o.name, type: o.type })),
  ];
  const trailing = pit.columns.flatMap((c) =>
    c.kind === "event_time" ? [{ name: c.name, type: TIMESTAMP }] : c.kind === "split" ? [{ name: c.name, type: STRING }] : [],
  );
  if (onDemand.length === 0) {
    await connection.run(`CREATE TABLE ${table} AS ${pit.sql}`, signal);
    return { table, values, trailing };
  }
  // On-demand values are computed in JavaScript (CEL): stream the join on this connection, add
  // them, and append the batches from a second one (a streaming query owns its connection).
  const output = outputOf(pit, onDemand, undefined);
  const writer = await engine.extraConnection();
  try {
    const { schema, batches } = await queryBatches(connection, pit.sql, (s) => rowsForBytes(s, 4 * 1024 * 1024), signal);
    const outSchema = output.schema(schema);
    const types = new Map([...values, ...trailing].map((c) => [c.name, c.type]));
    const staged = outSchema.fields.map((f: arrow.Field, i: number) => stageColumn(f.name, i, f.type, types.get(f.name)!));
    const stager = await ArrowStager.create(writer, table, staged, false, signal);
    for await (const batch of batches) await stager.append(output.apply(batch), signal);
    await stager.close(signal);
  } finally {
    writer.close();
  }
  return { table, values, trailing };
}

/**
 * The statistics transformations are fitted on, over the training split, from a pass of the
 * query that keeps only the transformed columns of the training rows.
 */
async function trainingSplitStatistics(
  connection: DuckConnection,
  pit: PitQuery,
  view: FeatureView,
  tables: string[],
  signal: AbortSignal,
): Promise<{ rowCount: bigint; columns: ColumnStatistics[] }> {
  const transformed = new Set(view.transformations.map((t) => t.column));
  const values = pit.columns.flatMap((c) => (c.kind === "output" && transformed.has(c.name) ? [{ name: c.name, type: c.output.type! }] : []));
  const hasSplit = pit.columns.some((c) => c.kind === "split");
  const table = tempName("fit");
  tables.push(table);
  const select = values.length > 0 ? values.map((v) => quoteIdent(v.name)).join(", ") : "1 AS _row";
  const where = hasSplit ? ` WHERE ${SPLIT_COLUMN} = 'train'` : "";
  await connection.run(`CREATE TEMP TABLE ${table} AS SELECT ${select} FROM (${pit.unordered})${where}`, signal);
  return valueStatistics(connection, { table, values, trailing: [] }, view, signal, true);
}

/**
 * Statistics of the value columns over the training split (every row when there is no split).
 * `onlyTransformed`: just the columns transformations need.
 */
export async function valueStatistics(
  connection: DuckConnection,
  m: Materialised,
  view: FeatureView,
  signal: AbortSignal,
  onlyTransformed: boolean,
): Promise<{ rowCount: bigint; columns: ColumnStatistics[] }> {
  const encoders = new Set(
    view.transformations
      .filter((t) => t.function === TransformationFunction.LABEL_ENCODER || t.function === TransformationFunction.ONE_HOT_ENCODER)
      .map((t) => t.column),
  );
  const transformed = new Set(view.transformations.map((t) => t.column));
  const roles = new Map(view.outputColumns.map((c) => [c.name, c.role]));
  const columns: StatisticsColumn[] = m.values
    .filter((v) => (onlyTransformed ? transformed.has(v.name) : roles.get(v.name) !== ColumnRole.TRAINING_HELPER))
    .map((v) => ({ name: v.name, type: v.type, categories: encoders.has(v.name) }));
  const hasSplit = m.trailing.some((t) => t.name === SPLIT_COLUMN);
  const relation = hasSplit ? `(SELECT * FROM ${m.table} WHERE ${SPLIT_COLUMN} = 'train')` : m.table;
  return computeStatistics(connection, relation, columns, { histograms: !onlyTransformed }, signal);
}

function fit(view: FeatureView, stats: readonly ColumnStatistics[] | { columns: ColumnStatistics[] }): Map<string, FittedTransformation> {
  const list = Array.isArray(stats) ? stats : (stats as { columns: ColumnStatistics[] }).columns;
  return fitTransformations(
    view.transformations.map((t) => ({ column: t.column, fn: t.function })),
    list,
  );
}

async function dropTables(connection: DuckConnection, tables: readonly string[]): Promise<void> {
  for (const t of tables) await connection.run(`DROP TABLE IF EXISTS ${t}`).catch(() => undefined);
}

export function requireView(deps: TrainingDeps, project: string, name: string, version: number): FeatureView {
  const view = deps.catalogue.featureView(project, name, version);
  if (!view) throw new NotFoundError(`feature view "${name}"${version ? ` version ${version}` : ""} does not exist in project "${project}"`);
  return view;
}
