import { feature, type FeatureGroup, type FeatureValue, type FeatureView, type FilterExpr, type Neighbor, type Project } from "@granary/client";
import type { DataType } from "@granary/proto/types";
import { parseAssignments } from "../assignments.js";
import { CliError, UsageError } from "../cli-error.js";
import type { CommandContext } from "../context.js";
import { cellText, formatTable, jsonValue, toJson } from "../output.js";
import { parseRef } from "../refs.js";
import { runtime } from "../runtime.js";

export interface NeighborsOptions {
  readonly column: string;
  readonly vector?: string;
  readonly like: string[];
  readonly k: number;
  readonly where: string[];
  readonly vectors?: boolean;
  readonly exact?: boolean;
  readonly kind?: "group" | "view";
}

/** `--vector '[0.1, 0.2, …]'` as numbers; a usage error naming what is wrong. */
export function parseQueryVector(text: string): number[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`--vector is not a JSON array of numbers: ${text.length > 40 ? `${text.slice(0, 40)}…` : text}`);
  }
  if (!Array.isArray(parsed) || parsed.length === 0) throw new UsageError("--vector must be a non-empty JSON array of numbers, e.g. '[0.1, 0.2, 0.3]'");
  const bad = parsed.findIndex((x) => typeof x !== "number" || !Number.isFinite(x));
  if (bad >= 0) throw new UsageError(`--vector item ${bad} is not a finite number: ${JSON.stringify(parsed[bad])}`);
  return parsed as number[];
}

/** Neighbours as a table: rank, keys, distance, then the vector's columns when there are any. */
export function formatNeighbors(neighbors: readonly Neighbor[]): string {
  if (neighbors.length === 0) return "no neighbours (no row has an embedding in this column, or none matches --where)";
  const keyNames = Object.keys(neighbors[0]!.key);
  const vectorNames = neighbors[0]!.vector ? Object.keys(neighbors[0]!.vector) : [];
  return formatTable(
    ["#", ...keyNames, "distance", ...vectorNames],
    neighbors.map((n, i) => [
      String(i + 1),
      ...keyNames.map((k) => cellText(n.key[k])),
      n.distance.toFixed(6),
      ...vectorNames.map((c) => shortCell(n.vector?.[c])),
    ]),
  );
}

/** An embedding in a table cell: its first items and its length. */
function shortCell(value: unknown): string {
  if (Array.isArray(value) && value.length > 4)
    return `[${value
      .slice(0, 3)
      .map((v) => cellText(v))
      .join(", ")}, … ${value.length} items]`;
  return cellText(value);
}

interface Target {
  readonly kind: "group" | "view";
  readonly name: string;
  readonly version: number;
  readonly group?: FeatureGroup;
  readonly view?: FeatureView;
}

/** A name is a view's when one exists (views are what inference asks through), else a group's; --kind decides otherwise. */
async function findTarget(ctx: CommandContext, project: Project, text: string, kind: "group" | "view" | undefined): Promise<Target> {
  const ref = parseRef(text, "feature group or view");
  const { Code, ConnectError } = runtime().connect;
  const notFound = (err: unknown) => ConnectError.from(err).code === Code.NotFound;
  if (kind !== "group") {
    try {
      const view = await project.getFeatureView(ref.name, ref.version);
      return { kind: "view", name: view.name, version: view.version, view };
    } catch (err) {
      if (kind === "view" || !notFound(err)) throw err;
    }
  }
  try {
    const group = await project.getFeatureGroup(ref.name, ref.version);
    return { kind: "group", name: group.name, version: group.version, group };
  } catch (err) {
    if (kind === undefined && notFound(err))
      throw new CliError(`"${text}" is neither a feature view nor a feature group of project ${project.name} (granary list shows them)`);
    throw err;
  }
}

/** The indexed group behind the column: the group itself, or the group filling the view's output column. */
async function indexedGroup(project: Project, target: Target, column: string): Promise<FeatureGroup> {
  if (target.group) return target.group;
  const out = target.view!.definition.outputColumns.find((c) => c.name === column);
  if (!out) throw new UsageError(`view ${target.name} v${target.version} has no output column "${column}" (columns: ${target.view!.columns.join(", ")})`);
  if (!out.featureGroup) throw new UsageError(`column "${column}" of view ${target.name} is computed on demand, not stored: it has no index`);
  return project.getFeatureGroup(out.featureGroup.name, out.featureGroup.version);
}

/**
 * `granary neighbors <group|view> --column c (--vector '[…]' | --like key=value) [-k N]`: the k
 * entities nearest the query in the column's embedding index, nearest first, with distances (and
 * their feature vectors with --vectors).
 */
export async function neighborsCommand(ctx: CommandContext, targetText: string, options: NeighborsOptions): Promise<void> {
  if ((options.vector === undefined) === (options.like.length === 0))
    throw new UsageError("give the query as --vector '[…]' or as --like key=value (one of them)");
  const given = options.vector !== undefined ? parseQueryVector(options.vector) : undefined;
  const project = await ctx.project();
  const target = await findTarget(ctx, project, targetText, options.kind);
  const group = await indexedGroup(project, target, options.column);
  const groupTypes = new Map<string, DataType>(group.columns.map((c) => [c.name, c.type!]));
  const where = parseAssignments(options.where, groupTypes, `column of ${group.name}`);
  const query = given ?? (await likeQuery(ctx, project, target, group, options));
  const conditions = Object.entries(where).map(([column, value]) => feature(column).eq(value as FeatureValue));
  const filter = conditions.length === 0 ? undefined : conditions.length === 1 ? conditions[0] : conditions[0]!.and(...conditions.slice(1));
  const search = { k: options.k, filter, includeVectors: options.vectors === true, exact: options.exact === true, signal: ctx.signal };
  const neighbors = target.view
    ? await target.view.findNeighbors(options.column, query, search)
    : await target.group!.findNeighbors(options.column, query, search);
  if (ctx.json) {
    ctx.output.out(
      toJson({
        [target.kind === "view" ? "feature_view" : "feature_group"]: { name: target.name, version: target.version },
        column: options.column,
        neighbors: neighbors.map((n) => jsonValue(n)),
      }),
    );
    return;
  }
  ctx.output.out(formatNeighbors(neighbors));
}

/** The embedding of the entity named by --like: online through a view, or the latest offline row of a group. */
async function likeQuery(ctx: CommandContext, project: Project, target: Target, group: FeatureGroup, options: NeighborsOptions): Promise<number[]> {
  let value: FeatureValue | undefined;
  if (target.view) {
    const view = target.view;
    const keyTypes = new Map<string, DataType>(view.servingKeys.map((k) => [k.name, k.type!]));
    const entry = parseAssignments(options.like, keyTypes, "serving key");
    const res = await view.getFeatureVectorsWithStatus([entry], { untransformed: true, signal: ctx.signal });
    value = res.rows[0]?.[options.column];
    if (res.statuses[0]?.[options.column] === "NOT_FOUND") throw new CliError(`no online row of view ${view.name} for ${options.like.join(" ")}`);
  } else {
    const keyTypes = new Map<string, DataType>(group.columns.filter((c) => group.primaryKey.includes(c.name)).map((c) => [c.name, c.type!]));
    const entry = parseAssignments(options.like, keyTypes, "primary key column");
    const conditions: FilterExpr[] = Object.entries(entry).map(([k, v]) => feature(k).eq(v as FeatureValue));
    const filter = conditions.length === 1 ? conditions[0]! : conditions[0]!.and(...conditions.slice(1));
    const table = await group.read({ columns: [...group.primaryKey, ...(group.eventTime ? [group.eventTime] : []), options.column], filter });
    if (table.numRows === 0) throw new CliError(`feature group ${group.name} v${group.version} has no row for ${options.like.join(" ")}`);
    const rows = table.toArray() as Record<string, unknown>[];
    const et = group.eventTime;
    const latest = et ? rows.reduce((a, b) => (Number(b[et] ?? 0) >= Number(a[et] ?? 0) ? b : a)) : rows.at(-1)!;
    const raw = latest[options.column] as { toArray?: () => ArrayLike<number> } | null;
    value = raw && typeof raw === "object" && raw.toArray ? Array.from(raw.toArray()) : (raw as FeatureValue);
  }
  if (!Array.isArray(value) || value.length === 0) throw new CliError(`the entity ${options.like.join(" ")} has no embedding in "${options.column}" (null)`);
  return value.map(Number);
}
