// A seeded generator of random projects for the zero-skew property test (issue 14): feature groups
// with many column types and composite keys, a view joining root → child → grandchild, and a
// history of inserts, deletes and appended columns. Everything is plain data so that a failing
// case can be printed as JSON, shrunk and replayed.
import { seededRandom } from "@granary/testing";
import { ScalarType } from "@granary/proto/types";

/** Values as the generator holds them: int64 and timestamps (µs) as bigint, dates as days. */
export type Cell = boolean | number | bigint | string | Uint8Array | readonly Cell[] | null;

export interface GenType {
  readonly scalar: ScalarType;
  readonly list: boolean;
}

export interface GenColumn {
  readonly name: string;
  readonly type: GenType;
  /** Only appended columns have one. */
  readonly defaultValue?: Cell;
}

export interface GenGroup {
  readonly name: string;
  readonly columns: readonly GenColumn[];
  readonly primaryKey: readonly string[];
  readonly eventTime: string;
  readonly onlineTtlHours?: number;
}

/** A condition of a query node: `column >= value`, or `column IS NOT NULL` without a value. */
export interface GenFilter {
  readonly column: string;
  readonly value?: Cell;
}

export interface GenJoin {
  readonly group: string;
  readonly inner?: boolean;
  readonly filter?: GenFilter;
  /** Columns of the parent holding the child's primary key, in key order. */
  readonly leftOn: readonly string[];
  readonly prefix: string;
  readonly selection: GenSelection;
  readonly joins: readonly GenJoin[];
}

export interface GenSelection {
  readonly mode: "ALL" | "INCLUDE" | "EXCEPT";
  readonly columns: readonly string[];
}

export interface GenView {
  readonly root: string;
  readonly filter?: GenFilter;
  readonly selection: GenSelection;
  readonly joins: readonly GenJoin[];
  readonly onDemand: readonly { readonly name: string; readonly type: GenType; readonly expression: string }[];
}

export type GenStep =
  | {
      readonly kind: "insert";
      readonly group: string;
      readonly rows: readonly Record<string, Cell>[];
      /** Sent with online WriteRows to the write log instead of an offline Insert (zero-skew-pushed.test.ts). */
      readonly pushed?: boolean;
    }
  | { readonly kind: "delete"; readonly group: string; readonly keys: readonly Record<string, Cell>[] }
  | { readonly kind: "append"; readonly group: string; readonly column: GenColumn };

export interface GenCase {
  readonly groups: readonly GenGroup[];
  readonly view: GenView;
  readonly steps: readonly GenStep[];
}

/** Generator features that can be switched off, each while a named bug is open. */
export interface GenFeatures {
  readonly lists: boolean;
  readonly deletes: boolean;
  readonly appends: boolean;
  readonly tiesWithinCommit: boolean;
  readonly onDemand: boolean;
  readonly ttl: boolean;
  /** The view selects the root group's event-time column. */
  readonly rootEventTime: boolean;
  /** Inner joins (else every join is a left join). */
  readonly innerJoins: boolean;
  /** Query filters on the root and joined groups. */
  readonly filters: boolean;
  /** Appended FLOAT columns get a default (other types always may). */
  readonly floatDefaults: boolean;
}

const MINUTE_US = 60_000_000n;
const S = ScalarType;
const FEATURE_SCALARS = [S.BOOL, S.INT32, S.INT64, S.FLOAT, S.DOUBLE, S.STRING, S.TIMESTAMP, S.DATE, S.BYTES];
const LIST_SCALARS = [S.INT64, S.DOUBLE, S.STRING];
const KEY_SCALARS = [S.INT64, S.INT32, S.STRING];
/** Few key values, so that rows collide on keys, joins hit and ties happen. */
const KEY_DOMAIN = 4;

export interface Random {
  float(): number;
  int(lo: number, hi: number): number;
  chance(p: number): boolean;
  pick<T>(xs: readonly T[]): T;
}

export function random(seed: number): Random {
  const next = seededRandom(seed);
  const r: Random = {
    float: next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    chance: (p) => next() < p,
    pick: (xs) => xs[Math.floor(next() * xs.length)]!,
  };
  return r;
}

/** A random value of `type`; `nowUs` anchors timestamps. */
export function randomCell(r: Random, type: GenType, nowUs: bigint): Cell {
  if (type.list) return Array.from({ length: r.int(0, 3) }, () => randomCell(r, { scalar: type.scalar, list: false }, nowUs) ?? 0);
  switch (type.scalar) {
    case S.BOOL:
      return r.chance(0.5);
    case S.INT32:
      return r.int(-1000, 1000);
    case S.INT64:
      return BigInt(r.int(-1_000_000, 1_000_000)) * 1_000_003n;
    case S.FLOAT:
      return Math.fround(r.int(-10_000, 10_000) / 8);
    case S.DOUBLE:
      return r.int(-1_000_000, 1_000_000) / 7;
    case S.STRING:
      return r.pick(["", "a", "b", "ünï", "x y", "long-" + r.int(0, 99)]);
    case S.TIMESTAMP:
      return nowUs - BigInt(r.int(0, 10_000_000)) * 1_000_000n - BigInt(r.int(0, 999_999));
    case S.DATE:
      return r.int(15_000, 21_000);
    case S.BYTES:
      return Uint8Array.from({ length: r.int(0, 4) }, () => r.int(0, 255));
    default:
      throw new Error(`no generator for scalar ${type.scalar}`);
  }
}

function keyCell(type: GenType, i: number): Cell {
  switch (type.scalar) {
    case S.INT64:
      return BigInt(i + 1);
    case S.INT32:
      return i + 1;
    default:
      return `k${i}`;
  }
}

/**
 * Event times on a coarse grid (30-minute steps, 7 minutes off the hour) so that ties happen and
 * no row sits within minutes of a whole-hour TTL boundary while the test runs. All ≤ now (rows in
 * the future are a known, separate skew being fixed: issue 14 point 4).
 */
function eventTime(r: Random, nowUs: bigint, pool: readonly bigint[]): bigint {
  // Drawing often from a few instants makes ties on (key, event time), within and across commits.
  if (r.chance(0.4)) return r.pick(pool);
  return nowUs - (BigInt(r.int(0, 8 * 24 * 2)) * 30n + 7n) * MINUTE_US;
}

interface Shape {
  readonly group: GenGroup;
  /** Key types of the group, in key order. */
  readonly keyTypes: readonly GenType[];
  readonly children: Shape[];
}

export function generateCase(seed: number, nowUs: bigint, features: GenFeatures): GenCase {
  const r = random(seed);
  const groupCount = r.int(1, 4);
  const names = Array.from({ length: groupCount }, (_, i) => `g${i}`);
  // Tree: g0 is the root; every other group hangs under an earlier one, at most two levels deep.
  const depth = new Map<string, number>([["g0", 0]]);
  const parentOf = new Map<string, string>();
  for (const name of names.slice(1)) {
    const candidates = names.filter((n) => (depth.get(n) ?? 99) < 2);
    const parent = r.pick(candidates);
    parentOf.set(name, parent);
    depth.set(name, depth.get(parent)! + 1);
  }
  const keyTypesOf = new Map(names.map((n) => [n, Array.from({ length: r.int(1, 2) }, () => ({ scalar: r.pick(KEY_SCALARS), list: false }))] as const));
  const groups: GenGroup[] = names.map((name) => {
    const keyTypes = keyTypesOf.get(name)!;
    const columns: GenColumn[] = keyTypes.map((type, i) => ({ name: `${name}_id${i}`, type }));
    columns.push({ name: `${name}_ts`, type: { scalar: S.TIMESTAMP, list: false } });
    for (const child of names.filter((n) => parentOf.get(n) === name)) {
      keyTypesOf.get(child)!.forEach((type, i) => columns.push({ name: `${name}_fk_${child}_${i}`, type }));
    }
    const featureCount = r.int(1, 5);
    for (let i = 0; i < featureCount; i++) {
      const list = features.lists && r.chance(0.15);
      const type = { scalar: r.pick(list ? LIST_SCALARS : FEATURE_SCALARS), list };
      columns.push({ name: `${name}_f${i}`, type });
    }
    const ttl = features.ttl && r.chance(0.4) ? r.pick([1, 6, 24, 72]) : undefined;
    return { name, columns, primaryKey: keyTypes.map((_, i) => `${name}_id${i}`), eventTime: `${name}_ts`, ...(ttl ? { onlineTtlHours: ttl } : {}) };
  });

  // History first: appended columns must exist before the view is created to be in its selection.
  const steps: GenStep[] = [];
  const live = new Map<string, GenColumn[]>(groups.map((g) => [g.name, [...g.columns]]));
  const commits = r.int(2, 6);
  const pool = Array.from({ length: 3 }, () => nowUs - (BigInt(r.int(0, 8 * 24 * 2)) * 30n + 7n) * MINUTE_US);
  for (let c = 0; c < commits; c++) {
    const group = r.pick(groups);
    const roll = r.float();
    if (features.appends && roll < 0.15) {
      const n = live.get(group.name)!.length;
      const type = { scalar: r.pick(FEATURE_SCALARS), list: false };
      const withDefault = r.chance(0.7) && (features.floatDefaults || type.scalar !== S.FLOAT);
      const column: GenColumn = { name: `${group.name}_a${n}`, type, ...(withDefault ? { defaultValue: randomCell(r, type, nowUs) } : {}) };
      live.get(group.name)!.push(column);
      steps.push({ kind: "append", group: group.name, column });
      continue;
    }
    if (features.deletes && roll < 0.3 && steps.some((s) => s.kind === "insert" && s.group === group.name)) {
      const keys = Array.from({ length: r.int(1, 2) }, () => keyRow(r, group, keyTypesOf.get(group.name)!));
      steps.push({ kind: "delete", group: group.name, keys });
      continue;
    }
    const rows: Record<string, Cell>[] = [];
    const seen = new Set<string>();
    for (let i = r.int(1, 12); i > 0; i--) {
      const row: Record<string, Cell> = keyRow(r, group, keyTypesOf.get(group.name)!);
      row[group.eventTime] = eventTime(r, nowUs, pool);
      const tie = `${keyText(group, row)}@${String(row[group.eventTime])}`;
      if (!features.tiesWithinCommit && seen.has(tie)) continue;
      seen.add(tie);
      for (const column of live.get(group.name)!) {
        if (column.name in row) continue;
        const isForeign = column.name.startsWith(`${group.name}_fk_`);
        if (isForeign) row[column.name] = r.chance(0.1) ? null : keyCell(column.type, r.int(0, KEY_DOMAIN - 1));
        else row[column.name] = r.chance(0.2) ? null : randomCell(r, column.type, nowUs);
      }
      rows.push(row);
    }
    steps.push({ kind: "insert", group: group.name, rows });
  }

  const selection = (group: GenGroup, isRoot: boolean): GenSelection => {
    const cols = live.get(group.name)!.map((c) => c.name);
    const mode = r.pick(["ALL", "INCLUDE", "EXCEPT"] as const);
    const chosen = cols.filter(() => r.chance(0.5));
    // Every selection keeps a column other than the event time: a view must select something.
    const keep = r.pick(cols.filter((c) => c !== group.eventTime));
    if (mode === "INCLUDE" && !chosen.includes(keep)) chosen.push(keep);
    if (mode === "EXCEPT" && chosen.includes(keep)) chosen.splice(chosen.indexOf(keep), 1);
    if (!isRoot || features.rootEventTime) return { mode, columns: mode === "ALL" ? [] : chosen };
    if (mode === "INCLUDE") return { mode, columns: chosen.filter((c) => c !== group.eventTime) };
    return { mode: "EXCEPT", columns: mode === "ALL" ? [group.eventTime] : [...new Set([...chosen, group.eventTime])] };
  };
  const filterOf = (group: GenGroup): { filter?: GenFilter } => {
    if (!features.filters || !r.chance(0.3)) return {};
    const candidates = group.columns.filter((c) => /_f\d+$/.test(c.name) && !c.type.list);
    if (candidates.length === 0) return {};
    const column = r.pick(candidates);
    const comparable = [S.INT32, S.INT64, S.DOUBLE].includes(column.type.scalar);
    if (!comparable || r.chance(0.3)) return { filter: { column: column.name } };
    return { filter: { column: column.name, value: column.type.scalar === S.INT64 ? 0n : 0 } };
  };
  const joinOf = (child: GenGroup): GenJoin => ({
    group: child.name,
    ...(features.innerJoins && r.chance(0.25) ? { inner: true } : {}),
    ...filterOf(child),
    leftOn: keyTypesOf.get(child.name)!.map((_, i) => `${parentOf.get(child.name)}_fk_${child.name}_${i}`),
    prefix: r.chance(0.4) ? `p${child.name}_` : "",
    selection: selection(child, false),
    joins: groups.filter((g) => parentOf.get(g.name) === child.name).map(joinOf),
  });
  const root = groups[0]!;
  const rootSelection = selection(root, true);
  const joins = groups.filter((g) => parentOf.get(g.name) === root.name).map(joinOf);
  // On-demand features read a selected numeric feature column of any group of the view.
  const selected = (group: string, s: GenSelection, prefix: string): { name: string; type: GenType }[] =>
    live
      .get(group)!
      .filter((c) => /_(f|a)\d+$/.test(c.name) && (s.mode === "ALL" || (s.mode === "INCLUDE") === s.columns.includes(c.name)))
      .map((c) => ({ name: prefix + c.name, type: c.type }));
  const inputs = [...selected(root.name, rootSelection, "")];
  // A nested join's outputs carry the prefixes of every join above it.
  const visit = (j: GenJoin, outer: string): void => {
    inputs.push(...selected(j.group, j.selection, outer + j.prefix));
    j.joins.forEach((x) => visit(x, outer + j.prefix));
  };
  joins.forEach((j) => visit(j, ""));
  const numeric = inputs.filter((c) => !c.type.list && (c.type.scalar === S.DOUBLE || c.type.scalar === S.INT64));
  const onDemand: GenView["onDemand"][number][] = [];
  if (features.onDemand && numeric.length > 0 && r.chance(0.6)) {
    const input = r.pick(numeric);
    const isDouble = input.type.scalar === S.DOUBLE;
    onDemand.push({ name: "od_0", type: input.type, expression: isDouble ? `${input.name} * 2.0 + 1.0` : `${input.name} * 2 + 1` });
  }
  return {
    groups,
    view: { root: root.name, ...filterOf(root), selection: rootSelection, joins, onDemand },
    steps,
  };
}

function keyRow(r: Random, group: GenGroup, keyTypes: readonly GenType[]): Record<string, Cell> {
  return Object.fromEntries(group.primaryKey.map((name, i) => [name, keyCell(keyTypes[i]!, r.int(0, KEY_DOMAIN - 1))]));
}

export function keyText(group: GenGroup, row: Record<string, Cell>): string {
  return group.primaryKey.map((k) => String(row[k])).join("|");
}

/** The case as JSON: bigints as "123n", bytes as hex. */
export function caseJson(c: GenCase): string {
  return JSON.stringify(
    c,
    (k, v: unknown) =>
      k === "scalar" ? ScalarType[v as ScalarType] : typeof v === "bigint" ? `${v}n` : v instanceof Uint8Array ? `0x${Buffer.from(v).toString("hex")}` : v,
    1,
  );
}
