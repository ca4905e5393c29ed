import { valueReader } from "@granary/arrow";
import type { PlainValue } from "@granary/cel";
import { FailedPreconditionError, InvalidArgumentError } from "@granary/errors";
import type { FeatureView } from "@granary/proto/metadata";
import { ScalarType, type ColumnarRows, type DataType } from "@granary/proto/types";
import { queryBatches, quoteIdent, timestampLiteral } from "../duck/index.js";
import { groupSourceSql } from "../read/group-source.js";
import { requestParameters } from "../training/on-demand.js";
import type { TrainingDeps } from "../training/training-deps.js";
import type { ViewPlan } from "../training/view-plan.js";
import { columnDataReader } from "./column-values.js";

/** Columns of values, one entry per entity. */
export interface ValueColumn {
  readonly name: string;
  readonly type: DataType;
  readonly values: readonly (PlainValue | null)[];
}

/** The entities a check reads: their serving keys and the request parameters of each. */
export interface Entities {
  readonly count: number;
  readonly keys: readonly ValueColumn[];
  readonly parameters: readonly ValueColumn[];
}

export function sliceEntities(e: Entities, start: number, end: number): Entities {
  const cut = (c: ValueColumn): ValueColumn => ({ ...c, values: c.values.slice(start, end) });
  return { count: Math.min(end, e.count) - start, keys: e.keys.map(cut), parameters: e.parameters.map(cut) };
}

/** The caller's entities: one column per serving key, each a serving key of the view. */
export function explicitEntities(view: FeatureView, rows: ColumnarRows): Entities {
  const types = new Map(view.servingKeys.map((k) => [k.name, k.type!]));
  const keys = rows.columns.map((c) => {
    const type = types.get(c.name);
    if (!type)
      throw new InvalidArgumentError(
        `entity column "${c.name}" is not a serving key of feature view "${view.name}" (its serving keys: ${[...types.keys()].join(", ")})`,
      );
    return { name: c.name, type, values: readAll(c.data, type, rows.rowCount) };
  });
  const given = new Set(keys.map((k) => k.name));
  const missing = view.servingKeys.filter((k) => k.required && !given.has(k.name)).map((k) => k.name);
  if (missing.length > 0)
    throw new InvalidArgumentError(`the entities lack serving key${missing.length === 1 ? "" : "s"} ${missing.join(", ")} of feature view "${view.name}"`);
  if (rows.rowCount === 0) throw new InvalidArgumentError("the entities have no rows");
  return { count: rows.rowCount, keys, parameters: [] };
}

/**
 * Up to `size` entities of the root group with a row at or before `asOfMicros`, drawn by a seeded
 * hash of their keys: the same seed over the same keys draws the same entities.
 */
export async function sampleEntities(
  deps: TrainingDeps,
  project: string,
  plan: ViewPlan,
  size: number,
  seed: bigint,
  asOfMicros: bigint,
  signal: AbortSignal,
): Promise<Entities> {
  const g = plan.nodes[0]!.group;
  const has = (column: string) => g.columns.some((c) => c.name === column);
  // A key of the root itself, or (root unprefixed) the root's column a first-level join reads.
  const sourceOf = (k: FeatureView["servingKeys"][number]) =>
    k.featureGroup?.name === g.name && k.featureGroup.version === g.version && has(k.column) ? k.column : has(k.name) ? k.name : undefined;
  const fromRoot = plan.view.servingKeys.flatMap((k) => {
    const column = sourceOf(k);
    return column ? [{ ...k, column }] : [];
  });
  const other = plan.view.servingKeys.filter((k) => k.required && sourceOf(k) === undefined);
  if (other.length > 0) {
    throw new FailedPreconditionError(
      `serving key${other.length === 1 ? "" : "s"} ${other.map((k) => k.name).join(", ")} of feature view "${plan.view.name}" cannot be drawn from its root group "${g.name}": give explicit entities`,
    );
  }
  if (fromRoot.length === 0) throw new FailedPreconditionError(`feature view "${plan.view.name}" has no serving keys to draw a sample of`);
  const columns = [...new Set(fromRoot.map((k) => k.column))];
  const commits = deps.commits.commits(project, g.name, g.version);
  const files = await deps.layout.files.filesOf({ project, name: g.name, version: g.version }, commits, deps.logger);
  const source = groupSourceSql(files, g, commits, { columns: [...columns, ...(g.eventTime && !columns.includes(g.eventTime) ? [g.eventTime] : [])] });
  const cols = columns.map(quoteIdent).join(", ");
  const where = g.eventTime ? ` WHERE ${quoteIdent(g.eventTime)}::TIMESTAMP <= ${timestampLiteral(asOfMicros)}` : "";
  const sql = `SELECT ${cols} FROM (SELECT DISTINCT ${cols} FROM ${source} r${where}) ORDER BY hash(${cols}, ${seed}::UBIGINT), ${cols} LIMIT ${size}`;
  const types = new Map(g.columns.map((c) => [c.name, c.type!]));
  const values = new Map(columns.map((c) => [c, [] as (PlainValue | null)[]]));
  await deps.engine.withConnection(async (connection) => {
    const { batches } = await queryBatches(connection, sql, 8192, signal);
    for await (const batch of batches) {
      for (const c of columns) {
        const read = valueReader(batch.getChild(c)!.data[0]!, types.get(c)!);
        const out = values.get(c)!;
        for (let i = 0; i < batch.numRows; i++) out.push(read(i));
      }
    }
  }, signal);
  const count = values.get(columns[0]!)?.length ?? 0;
  return { count, keys: fromRoot.map((k) => ({ name: k.name, type: k.type!, values: values.get(k.column)! })), parameters: [] };
}

/** The request parameters of on-demand features: one row for every entity, or one row per entity. */
export function withParameters(view: FeatureView, entities: Entities, rows: ColumnarRows | undefined): Entities {
  const types = requestParameters(view);
  const parameters: ValueColumn[] = [];
  for (const c of rows?.columns ?? []) {
    const type = types.get(c.name);
    if (!type) throw new InvalidArgumentError(`request parameter "${c.name}" is not an input of any on-demand feature of feature view "${view.name}"`);
    const n = rows!.rowCount;
    if (n !== 1 && n !== entities.count)
      throw new InvalidArgumentError(`request parameters have ${n} rows: give one (for every entity) or one per entity (${entities.count})`);
    const values = readAll(c.data, type, n);
    parameters.push({ name: c.name, type, values: n === 1 ? Array.from({ length: entities.count }, () => values[0] ?? null) : values });
  }
  return { ...entities, parameters };
}

/**
 * A request parameter named as the spine's time column (the root group's event time) is read
 * offline from that column: it is the as-of time on both sides, whatever the caller gave.
 */
export function withTimeParameter(view: FeatureView, entities: Entities, timeColumn: string, asOfMicros: bigint): Entities {
  const type = requestParameters(view).get(timeColumn);
  if (!type) return entities;
  const value = type.scalar === ScalarType.DATE ? Number(asOfMicros / 86_400_000_000n) : asOfMicros;
  const column: ValueColumn = { name: timeColumn, type, values: Array.from({ length: entities.count }, () => value) };
  return { ...entities, parameters: [...entities.parameters.filter((p) => p.name !== timeColumn), column] };
}

function readAll(data: Parameters<typeof columnDataReader>[0], type: DataType, n: number): (PlainValue | null)[] {
  const read = columnDataReader(data, type);
  return Array.from({ length: n }, (_, i) => read(i));
}
