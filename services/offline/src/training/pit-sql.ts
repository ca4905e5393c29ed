import { InvalidArgumentError } from "@granary/errors";
import { ColumnRole, type FeatureGroup, type Filter, type OutputColumn, type SplitSpec } from "@granary/proto/metadata";
import type { DataType } from "@granary/proto/types";
import { duckTypeSql, filterSql, type FilterColumn, quoteIdent, timestampLiteral } from "../duck/index.js";
import { timestampMicros } from "../timestamps.js";
import { groupSourceSql, latestPerKeySql, SEQUENCE_COLUMN } from "../read/group-source.js";
import type { FilesOf } from "../store/commit-files.js";
import type { CommitEntry } from "../store/commit-log.js";
import type { PlanNode, ViewPlan } from "./view-plan.js";
import type { Timestamp } from "@bufbuild/protobuf/wkt";

/** Where the spine rows come from. */
export type SpineSource =
  /** The root (label) group's rows with event time in [start, end), in event-time order. */
  | { readonly kind: "range"; readonly startMicros: bigint | undefined; readonly endMicros: bigint | undefined }
  /** The root group's latest row per key with event time ≤ `nowMicros`; the other groups as of `nowMicros`. */
  | { readonly kind: "latest"; readonly nowMicros: bigint }
  /** A table of caller rows (staged), in their order; `time` is its event-time column. */
  | {
      readonly kind: "table";
      readonly table: string;
      readonly columns: ReadonlyMap<string, DataType>;
      readonly time: string | undefined;
      readonly nowMicros: bigint;
    };

export interface PitOptions {
  /** Roles of the view's query columns to return. */
  readonly roles: ReadonlySet<ColumnRole>;
  readonly includeEventTimes: boolean;
  /** Request parameters of on-demand features, returned as hidden `_rp_<name>` columns. */
  readonly requestParameters: ReadonlyMap<string, DataType>;
  readonly extraFilter?: Filter | undefined;
  readonly split?: SplitSpec | undefined;
  /**
   * False: the view's filters and inner joins select no rows, every spine row is returned — what an
   * online lookup by key serves (filters and join types select training rows; a vector is served for
   * any key, as in Hopsworks). CheckConsistency compares with this. Default true.
   */
  readonly selectRows?: boolean;
}

/** A column of the point-in-time result, in order. */
export type PitColumn =
  | { readonly kind: "output"; readonly name: string; readonly output: OutputColumn }
  | { readonly kind: "event_time"; readonly name: string; readonly node: PlanNode }
  | { readonly kind: "parameter"; readonly name: string; readonly parameter: string }
  | { readonly kind: "split"; readonly name: string };

export interface PitQuery {
  /** The rows in spine order. */
  readonly sql: string;
  /** The same rows in no particular order (for aggregates over them). */
  readonly unordered: string;
  readonly columns: readonly PitColumn[];
}

export const ROW_COLUMN = "_row";
export const SPLIT_COLUMN = "split";
const col = (node: number, name: string) => quoteIdent(`g${node}_${name}`);
const spineCol = (name: string) => quoteIdent(`sp_${name}`);

/**
 * The point-in-time join of a view as one DuckDB query. For every spine row (keys and an event
 * time `_ts`), each group contributes its row with the greatest event time ≤ `_ts` (ASOF LEFT
 * JOIN), null when there is none or when it is older than the group's TTL at `_ts`; keys of a
 * nested join are read from the row its parent contributed (so from the parent as of `_ts`), or
 * from the caller's spine when it carries them. Ties on (key, event time) cannot reach the join:
 * the group's rows are already reduced to the latest commit's (see groupSourceSql). Groups
 * without an event time join on their key alone. Output rows are the spine rows (minus those an
 * inner join, a filter or a time split drops), in spine order.
 */
export function pitSql(
  plan: ViewPlan,
  spine: SpineSource,
  commitsOf: (group: FeatureGroup) => readonly CommitEntry[],
  filesOf: FilesOf,
  options: PitOptions,
): PitQuery {
  const q = pitContext(plan, spine, commitsOf, filesOf, options);
  const start = spine.kind === "table" ? callerSpine(q, spine) : rootSpine(q, spine);
  const { ctes, last } = joinGroups(q, start);
  const outputs = outputExprs(q);
  const { select, columns } = resultColumns(q, outputs);
  const where = rowFilters(q, start, outputs);
  if (options.split?.kind.case) {
    select.push(`${splitExpr(options.split, start.rowKey)} AS ${SPLIT_COLUMN}`);
    columns.push({ kind: "split", name: SPLIT_COLUMN });
  }
  const orderColumns = start.rowOrder.split(", ");
  select.push(...orderColumns.map((c, i) => `${c} AS _o${i}`));
  const body = `WITH ${ctes.join(",\n")}\nSELECT ${select.join(", ")} FROM ${last}${where.length > 0 ? ` WHERE ${where.join(" AND ")}` : ""}`;
  const splitFilter = options.split?.kind.case === "time" ? ` WHERE ${SPLIT_COLUMN} IS NOT NULL` : "";
  const names = columns.map((c) => quoteIdent(c.name)).join(", ");
  const unordered = `SELECT ${names} FROM (${body})${splitFilter}`;
  return { sql: `${unordered} ORDER BY ${orderColumns.map((_, i) => `_o${i}`).join(", ")}`, unordered, columns };
}

/** What every phase of the query reads. */
interface PitContext {
  readonly nodes: readonly PlanNode[];
  readonly root: PlanNode;
  readonly view: ViewPlan["view"];
  readonly spine: SpineSource;
  readonly options: PitOptions;
  /** Request parameters that are columns of the root group: read from its row. */
  readonly rootParams: readonly string[];
  /** A group's rows as its commits leave them, with the columns the query reads (and `extra`). */
  readonly source: (node: PlanNode, extra?: readonly string[]) => string;
  readonly spineHas: (name: string) => boolean;
}

function pitContext(
  plan: ViewPlan,
  spine: SpineSource,
  commitsOf: (group: FeatureGroup) => readonly CommitEntry[],
  filesOf: FilesOf,
  options: PitOptions,
): PitContext {
  const root = plan.nodes[0]!;
  return {
    nodes: plan.nodes,
    root,
    view: plan.view,
    spine,
    options,
    rootParams: [...options.requestParameters.keys()].filter((p) => root.group.columns.some((c) => c.name === p)),
    source: (node, extra = []) => {
      const g = node.group;
      const cols = new Set([...g.primaryKey, ...(g.eventTime ? [g.eventTime] : []), ...node.needed, ...extra]);
      return groupSourceSql(filesOf, g, commitsOf(g), {
        columns: g.columns.map((c) => c.name).filter((c) => cols.has(c)),
        withSequence: extra.includes(SEQUENCE_COLUMN),
      });
    },
    spineHas: (name) => spine.kind === "table" && spine.columns.has(name),
  };
}

/** s0, the spine (and s0b when it is the caller's without the root's key), and what it decides for the rest. */
interface SpineCtes {
  readonly ctes: readonly string[];
  /** The spine is the root group's own rows, so the root is not joined again and its filter is applied here. */
  readonly rootFromSpine: boolean;
  /** False when a caller's spine lacks the root's key: the root is not read, so neither is its filter. */
  readonly rootLookedUp: boolean;
  /** Output rows follow this order; the random split hashes `rowKey`. */
  readonly rowOrder: string;
  readonly rowKey: string;
}

/** The root group's rows as the spine: those in a time range, or each key's latest as of now. */
function rootSpine(q: PitContext, spine: Exclude<SpineSource, { kind: "table" }>): SpineCtes {
  const { root, rootParams } = q;
  const rootGroup = root.group;
  if (!rootGroup.eventTime && spine.kind === "range") {
    throw new InvalidArgumentError(
      `feature group "${rootGroup.name}" has no event time: give a spine (rows with keys and an event time) instead of a time range`,
    );
  }
  const et = rootGroup.eventTime ? quoteIdent(rootGroup.eventTime) : undefined;
  const captured = new Set([...root.needed, ...rootGroup.primaryKey, ...rootParams]);
  const select = [...captured].map((c) => `r.${quoteIdent(c)} AS ${col(0, c)}`);
  const { from, ts, conditions } = spine.kind === "range" ? rangeRows(q, spine, et) : latestRows(q, spine, captured);
  if (root.filter)
    conditions.push(
      filterSql(
        root.filter,
        groupColumns(rootGroup, (c) => `r.${quoteIdent(c)}`),
        "feature_view.query.filter",
      ),
    );
  if (et) select.push(`r.${et}::TIMESTAMP AS ${col(0, "_et")}`);
  const where = conditions.length > 0 ? ` WHERE ${conditions.join(" AND ")}` : "";
  // The spine order (event time, then key) is applied once, to the result: no row numbering.
  const key = rootGroup.primaryKey.map((k) => col(0, k));
  return {
    ctes: [`s0 AS (SELECT ${select.join(", ")}, ${ts} AS _ts, true AS ${col(0, "_found")} FROM ${from} r${where})`],
    rootFromSpine: true,
    rootLookedUp: true,
    rowOrder: ["_ts", ...key].join(", "),
    rowKey: key.length === 1 ? `${key[0]}, _ts` : `${key.join(", ")}, _ts`,
  };
}

interface SpineRows {
  readonly from: string;
  readonly ts: string;
  readonly conditions: string[];
}

function rangeRows(q: PitContext, spine: Extract<SpineSource, { kind: "range" }>, et: string | undefined): SpineRows {
  const conditions: string[] = [];
  if (spine.startMicros !== undefined) conditions.push(`r.${et}::TIMESTAMP >= ${timestampLiteral(spine.startMicros)}`);
  if (spine.endMicros !== undefined) conditions.push(`r.${et}::TIMESTAMP < ${timestampLiteral(spine.endMicros)}`);
  return { from: q.source(q.root, q.rootParams), ts: `r.${et}::TIMESTAMP`, conditions };
}

function latestRows(q: PitContext, spine: Extract<SpineSource, { kind: "latest" }>, captured: ReadonlySet<string>): SpineRows {
  const rootGroup = q.root.group;
  const cols = rootGroup.columns.map((c) => c.name).filter((c) => captured.has(c) || c === rootGroup.eventTime);
  const from = latestPerKeySql(rootGroup, q.source(q.root, [SEQUENCE_COLUMN, ...q.rootParams]), cols, spine.nowMicros);
  return { from, ts: timestampLiteral(spine.nowMicros), conditions: [] };
}

/** A caller's rows as the spine, in their order; without the root's key, the root is not looked up. */
function callerSpine(q: PitContext, spine: Extract<SpineSource, { kind: "table" }>): SpineCtes {
  const rootGroup = q.root.group;
  const hasRootKey = rootGroup.primaryKey.every((k) => spine.columns.has(k));
  const ts = spine.time ? `t.${quoteIdent(spine.time)}::TIMESTAMP` : timestampLiteral(spine.nowMicros);
  const spineCols = [...spine.columns.keys()].map((c) => `t.${quoteIdent(c)} AS ${spineCol(c)}`);
  const ctes = [`s0 AS (SELECT ${spineCols.join(", ")}, ${ts} AS _ts, t.rowid::BIGINT AS ${ROW_COLUMN} FROM ${spine.table} t)`];
  if (!hasRootKey) {
    // No root key: the root group is not looked up; its outputs come from the spine or are null.
    const nulls = [...q.root.needed].map((c) => `NULL::${duckTypeSql(rootGroup.columns.find((x) => x.name === c)!.type!)} AS ${col(0, c)}`);
    ctes.push(`s0b AS (SELECT *, ${[...nulls, `false AS ${col(0, "_found")}`, `NULL::TIMESTAMP AS ${col(0, "_et")}`].join(", ")} FROM s0)`);
  }
  return { ctes, rootFromSpine: false, rootLookedUp: hasRootKey, rowOrder: ROW_COLUMN, rowKey: ROW_COLUMN };
}

/** One join per group; the root is joined too when the spine is the caller's and has its key. */
function joinGroups(q: PitContext, start: SpineCtes): { ctes: string[]; last: string } {
  const ctes = [...start.ctes];
  let previous = ctes.length === 1 ? "s0" : "s0b";
  const joined = new Set<number>(start.rootFromSpine || previous === "s0b" ? [0] : []);
  for (const node of q.nodes) {
    if (joined.has(node.index)) continue;
    const name = `s${ctes.length}`;
    ctes.push(`${name} AS (${joinSql(q, node, previous)})`);
    previous = name;
  }
  return { ctes, last: previous };
}

/** A group's row as of each spine row's time (ASOF LEFT JOIN), masked once older than its TTL. */
function joinSql(q: PitContext, node: PlanNode, previous: string): string {
  const g = node.group;
  const keys = node.parent === undefined ? g.primaryKey : node.rightOn;
  const keyCols = keys.map((_, p) => `${keyExpr(q, node, p)} AS _k${p}`);
  const captured = [...new Set([...node.needed, ...(node.parent === undefined ? q.rootParams : [])])];
  const fresh = g.eventTime && node.ttlMicros !== undefined ? `r._et >= l._ts - to_microseconds(${node.ttlMicros}::BIGINT)` : undefined;
  const found = g.eventTime ? `r._et IS NOT NULL${fresh ? ` AND ${fresh}` : ""}` : `r.${quoteIdent(g.primaryKey[0]!)} IS NOT NULL`;
  // A missing row is already all nulls (LEFT join); only a row past its TTL needs masking.
  const value = (expr: string) => (fresh ? `CASE WHEN ${fresh} THEN ${expr} END` : expr);
  const select = captured.map((c) => `${value(`r.${quoteIdent(c)}`)} AS ${col(node.index, c)}`);
  if (node.inner) select.push(`(${found}) AS ${col(node.index, "_found")}`);
  if (g.eventTime && q.options.includeEventTimes) select.push(`${value("r._et")} AS ${col(node.index, "_et")}`);
  const on = keys.map((k, p) => `l._k${p} = r.${quoteIdent(k)}`);
  // Request parameters read from the root group's columns are read even when not selected.
  const right = q.source(node, node.parent === undefined ? q.rootParams : []);
  const join = g.eventTime
    ? `ASOF LEFT JOIN (SELECT *, ${quoteIdent(g.eventTime)}::TIMESTAMP AS _et FROM ${right}) r ON ${on.join(" AND ")} AND l._ts >= r._et`
    : `LEFT JOIN ${right} r ON ${on.join(" AND ")}`;
  return `SELECT l.* EXCLUDE (${keys.map((_, p) => `_k${p}`).join(", ")}), ${select.join(", ")} FROM (SELECT l.*, ${keyCols.join(", ")} FROM ${previous} l) l ${join}`;
}

/** A join key part: from the spine for the root, else from the parent's row (the spine's value first, when it has one). */
function keyExpr(q: PitContext, node: PlanNode, part: number): string {
  if (node.parent === undefined) return `l.${spineCol(node.rightOn[part] ?? node.group.primaryKey[part]!)}`;
  const parent = q.nodes[node.parent]!;
  const left = node.leftOn[part]!;
  const fromParent = `l.${col(parent.index, left)}`;
  return q.spineHas(parent.prefix + left) ? `COALESCE(l.${spineCol(parent.prefix + left)}, ${fromParent})` : fromParent;
}

type OutputExprs = ReadonlyMap<string, { expr: string; type: DataType }>;

/** Each output column's expression over the joined rows. */
function outputExprs(q: PitContext): OutputExprs {
  const { spine } = q;
  const out = new Map<string, { expr: string; type: DataType }>();
  for (const node of q.nodes) {
    for (const { column, output } of node.outputs) {
      let expr = col(node.index, column);
      // A spine's values of the root's selected columns override the looked-up ones, except its time:
      // that is the instant of the lookup, and the root's event-time column holds the event time of
      // the row found then (as an online vector does).
      const spineTime = spine.kind === "table" && output.name === spine.time && node.group.eventTime === column;
      if (node.index === 0 && q.spineHas(output.name) && !spineTime) expr = `COALESCE(${spineCol(output.name)}, ${expr})`;
      out.set(output.name, { expr, type: output.type! });
    }
  }
  return out;
}

/** The result's columns in order: chosen outputs, event times, request parameters. */
function resultColumns(q: PitContext, outputs: OutputExprs): { select: string[]; columns: PitColumn[] } {
  const { options } = q;
  const columns: PitColumn[] = [];
  const select: string[] = [];
  for (const output of q.view.outputColumns) {
    if (output.role === ColumnRole.ON_DEMAND || !options.roles.has(output.role)) continue;
    const e = outputs.get(output.name);
    if (!e) continue;
    select.push(`${e.expr} AS ${quoteIdent(output.name)}`);
    columns.push({ kind: "output", name: output.name, output });
  }
  if (options.includeEventTimes) {
    for (const node of q.nodes) {
      if (!node.group.eventTime) continue;
      const name = `${node.prefix}${node.group.name}_event_time`;
      select.push(`${col(node.index, "_et")} AS ${quoteIdent(name)}`);
      columns.push({ kind: "event_time", name, node });
    }
  }
  for (const [parameter, type] of options.requestParameters) {
    const name = `_rp_${parameter}`;
    const expr = q.spineHas(parameter) ? spineCol(parameter) : q.rootParams.includes(parameter) ? col(0, parameter) : `NULL::${duckTypeSql(type)}`;
    select.push(`${expr} AS ${quoteIdent(name)}`);
    columns.push({ kind: "parameter", name, parameter });
  }
  return { select, columns };
}

/** Which rows are returned: inner joins and the view's filters (unless every spine row is), then the caller's filter. */
function rowFilters(q: PitContext, start: SpineCtes, outputs: OutputExprs): string[] {
  const { options, root } = q;
  const where: string[] = [];
  if (options.selectRows ?? true) {
    for (const node of q.nodes) {
      if (node.inner) where.push(col(node.index, "_found"));
      if (node.filter && !(node.index === 0 && (start.rootFromSpine || !start.rootLookedUp))) {
        where.push(
          filterSql(
            node.filter,
            groupColumns(node.group, (c) => col(node.index, c)),
            "feature_view.query.filter",
          ),
        );
      }
    }
  }
  if (options.extraFilter) {
    where.push(
      filterSql(
        options.extraFilter,
        (name) =>
          outputs.get(name) ?? (root.needed.has(name) ? { expr: col(0, name), type: root.group.columns.find((c) => c.name === name)!.type! } : undefined),
        "extra_filter",
      ),
    );
  }
  return where;
}

function groupColumns(group: FeatureGroup, expr: (column: string) => string): (name: string) => FilterColumn | undefined {
  const types = new Map(group.columns.map((c) => [c.name, c.type!]));
  return (name) => (types.has(name) ? { expr: expr(name), type: types.get(name)! } : undefined);
}

/**
 * train / validation / test per row. Random: a hash of the seed and the spine row number, so the
 * same seed gives the same split whatever else changes; by time: the spine event time's range.
 */
export function splitExpr(split: SplitSpec, rowKey: string): string {
  const kind = split.kind;
  if (kind.case === "random") {
    const { train, validation, test, seed } = kind.value;
    const total = train + validation + test;
    if (![train, validation, test].every((r) => Number.isFinite(r) && r >= 0) || Math.abs(total - 1) > 1e-6 || train <= 0) {
      throw new InvalidArgumentError(
        `split.random: train, validation and test are ratios ≥ 0 summing to 1 with train > 0 (got ${train}, ${validation}, ${test})`,
        { field: "split.random" },
      );
    }
    const u = `((hash(${rowKey}, ${seed.toString()}::UBIGINT) >> 11)::DOUBLE / 9007199254740992.0)`;
    return `CASE WHEN ${u} < ${train} THEN 'train' WHEN ${u} < ${train + validation} THEN 'validation' ELSE 'test' END`;
  }
  if (kind.case === "time") {
    const inRange = (r: { start?: Timestamp; end?: Timestamp } | undefined) => {
      if (!r) return "false";
      const parts = ["true"];
      if (r.start) parts.push(`_ts >= ${timestampLiteral(timestampMicros(r.start))}`);
      if (r.end) parts.push(`_ts < ${timestampLiteral(timestampMicros(r.end))}`);
      return parts.join(" AND ");
    };
    const { train, validation, test } = kind.value;
    if (!train) throw new InvalidArgumentError("split.time.train: give the training time range", { field: "split.time.train" });
    return `CASE WHEN ${inRange(train)} THEN 'train' WHEN ${inRange(validation)} THEN 'validation' WHEN ${inRange(test)} THEN 'test' END`;
  }
  return `'train'`;
}
