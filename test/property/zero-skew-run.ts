// Plays a generated case against the running suite and compares, for every entity of the root
// group, the online vector at now with the offline point-in-time row at now (GetTrainingData with
// a spine of the entities at now), and asks CheckConsistency for the same entities.
import { create, toJsonString } from "@bufbuild/protobuf";
import { TimestampSchema, durationFromMs } from "@bufbuild/protobuf/wkt";
import * as arrow from "apache-arrow";
import { arrowPayloads, buildColumn, tableFromChunks, valueReader } from "@granary/arrow";
import type { PlainValue } from "@granary/cel";
import { FilterOperator, JoinType, SelectionMode, type FeatureView, type Join, type Query } from "@granary/proto/metadata";
import type { TrainingDataQuery } from "@granary/proto/offline";
import {
  ColumnDataSchema,
  ColumnarRowsSchema,
  ScalarType,
  ValueSchema,
  ValueStatus,
  type ColumnData,
  type ColumnarRows,
  type DataType,
  type Value,
} from "@granary/proto/types";
import type { OfflineStack } from "../integration/support/offline-stack.js";
import {
  keyText,
  type Cell,
  type GenCase,
  type GenColumn,
  type GenFilter,
  type GenGroup,
  type GenJoin,
  type GenSelection,
  type GenStep,
  type GenType,
} from "./zero-skew-generator.js";

const S = ScalarType;
const VIEW = { name: "v", version: 1 };

const dataType = (t: GenType) => ({ scalar: t.scalar, list: t.list }) as DataType;

/** A value the same whichever side read it: integers as decimal strings, floats rounded to their width. */
export function normal(type: DataType, v: PlainValue | Cell | undefined): unknown {
  if (v === null || v === undefined) return null;
  if (type.list) return (v as readonly PlainValue[]).map((x) => normal({ ...type, list: false } as DataType, x));
  switch (type.scalar) {
    case S.INT32:
    case S.INT64:
    case S.TIMESTAMP:
    case S.DATE:
      return String(BigInt(v as number | bigint));
    case S.FLOAT:
      return Math.fround(Number(v));
    case S.DOUBLE:
      return Number(v);
    case S.BYTES:
      return `0x${Buffer.from(v as Uint8Array).toString("hex")}`;
    default:
      return v;
  }
}

/** Values of one column in the columnar wire form (ColumnData), nulls in `nullIndexes`. */
export function columnData(type: DataType | GenType, values: readonly Cell[]): ColumnData {
  const nullIndexes = values.flatMap((v, i) => (v === null ? [i] : []));
  if (type.list) {
    // Lists hold values only: an item is never null.
    const offsets = [0];
    const items: Cell[] = [];
    for (const v of values) {
      if (v !== null) items.push(...(v as readonly Cell[]));
      offsets.push(items.length);
    }
    return create(ColumnDataSchema, {
      values: { case: "lists", value: { offsets, items: columnData({ scalar: type.scalar, list: false }, items) } },
      nullIndexes,
    });
  }
  const filled = <T>(zero: T, map: (v: Cell) => T) => values.map((v) => (v === null ? zero : map(v)));
  const data = ((): ColumnData["values"] => {
    switch (type.scalar) {
      case S.BOOL:
        return { case: "bools", value: { values: filled(false, (v) => v as boolean) } } as ColumnData["values"];
      case S.INT32:
        return { case: "int32s", value: { values: filled(0, Number) } } as ColumnData["values"];
      case S.INT64:
        return { case: "int64s", value: { values: filled(0n, (v) => BigInt(v as bigint)) } } as ColumnData["values"];
      case S.FLOAT:
        return { case: "floats", value: { values: filled(0, Number) } } as ColumnData["values"];
      case S.DOUBLE:
        return { case: "doubles", value: { values: filled(0, Number) } } as ColumnData["values"];
      case S.STRING:
        return { case: "strings", value: { values: filled("", String) } } as ColumnData["values"];
      case S.BYTES:
        return { case: "bytes", value: { values: filled(new Uint8Array(), (v) => v as Uint8Array) } } as ColumnData["values"];
      case S.TIMESTAMP:
        return { case: "timestamps", value: { values: filled(0n, (v) => BigInt(v as bigint)) } } as ColumnData["values"];
      case S.DATE:
        return { case: "dates", value: { values: filled(0, Number) } } as ColumnData["values"];
      default:
        throw new Error(`no columnar encoding for scalar ${type.scalar}`);
    }
  })();
  return create(ColumnDataSchema, { values: data, nullIndexes });
}

/** Rows of a case in the columnar wire form of online WriteRows (and of the write log): every column given. */
export function columnarRows(columns: readonly GenColumn[], rows: readonly Record<string, Cell>[]): ColumnarRows {
  return create(ColumnarRowsSchema, {
    rowCount: rows.length,
    columns: columns.map((c) => ({
      name: c.name,
      data: columnData(
        c.type,
        rows.map((r) => r[c.name] ?? null),
      ),
    })),
  });
}

function onlineReader(data: ColumnData | undefined, type: DataType): (row: number) => PlainValue | null {
  const nulls = new Set(data?.nullIndexes ?? []);
  if (!data?.values.case) return () => null;
  if (data.values.case === "lists") {
    const { offsets, items } = data.values.value;
    const item = onlineReader(items, { ...type, list: false } as DataType);
    return (row) =>
      nulls.has(row)
        ? null
        : Array.from({ length: (offsets[row + 1] ?? 0) - (offsets[row] ?? 0) }, (_, i) => item((offsets[row] ?? 0) + i) ?? (0 as PlainValue));
  }
  const values = (data.values.value as { values: ArrayLike<PlainValue> }).values;
  return (row) => (nulls.has(row) || row >= values.length ? null : (values[row] as PlainValue));
}

function valueOf(type: GenType, v: Cell): Value {
  const kind = ((): Value["kind"] => {
    switch (type.scalar) {
      case S.BOOL:
        return { case: "boolValue", value: v as boolean };
      case S.INT32:
        return { case: "int32Value", value: v as number };
      case S.INT64:
        return { case: "int64Value", value: v as bigint };
      case S.FLOAT:
        return { case: "floatValue", value: v as number };
      case S.DOUBLE:
        return { case: "doubleValue", value: v as number };
      case S.STRING:
        return { case: "stringValue", value: v as string };
      case S.BYTES:
        return { case: "bytesValue", value: v as Uint8Array };
      case S.TIMESTAMP:
        return {
          case: "timestampValue",
          value: create(TimestampSchema, { seconds: (v as bigint) / 1_000_000n, nanos: Number((v as bigint) % 1_000_000n) * 1000 }),
        };
      case S.DATE:
        return { case: "dateValue", value: v as number };
      default:
        throw new Error(`no default for scalar ${type.scalar}`);
    }
  })();
  return create(ValueSchema, { kind });
}

function filterOf(f: GenFilter | undefined, columns: readonly GenColumn[]) {
  if (!f) return {};
  const type = columns.find((c) => c.name === f.column)!.type;
  const condition =
    f.value === undefined
      ? { column: f.column, operator: FilterOperator.IS_NOT_NULL }
      : { column: f.column, operator: FilterOperator.GE, value: valueOf(type, f.value) };
  return { filter: { kind: { case: "condition", value: condition } } };
}

function selectionOf(s: GenSelection) {
  return { mode: SelectionMode[s.mode], columns: [...s.columns] };
}

function joinOf(j: GenJoin, groups: ReadonlyMap<string, GenGroup>): Partial<Join> {
  const child = groups.get(j.group)!;
  return {
    query: {
      featureGroup: { name: j.group, version: 1 },
      selection: selectionOf(j.selection),
      ...filterOf(j.filter, child.columns),
      joins: j.joins.map((x) => joinOf(x, groups)),
    } as unknown as Query,
    leftOn: [...j.leftOn],
    rightOn: [...child.primaryKey],
    prefix: j.prefix,
    type: j.inner ? JoinType.INNER : JoinType.LEFT,
  };
}

/** Retries `call` while it fails, up to `ms`: offline learns of new groups and columns from metadata's change feed. */
export async function retrying<T>(call: () => Promise<T>, ms: number): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      return await call();
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function tableOf(columns: readonly { name: string; type: GenType }[], rows: readonly Record<string, Cell>[]): arrow.Table {
  return new arrow.Table(
    Object.fromEntries(
      columns.map((c) => [
        c.name,
        arrow.makeVector(
          buildColumn(
            dataType(c.type),
            rows.map((r) => (r[c.name] === undefined ? null : r[c.name]!) as PlainValue | null),
          ),
        ),
      ]),
    ),
  );
}

async function* framed(project: string, group: string, table: arrow.Table) {
  yield { message: { case: "header" as const, value: { project, featureGroup: { name: group, version: 1 } } } };
  for (const ipc of arrowPayloads(table)) yield { message: { case: "chunk" as const, value: { ipc } } };
}

/** Ways to play a case other than the default (every insert an offline Insert). */
export interface PlayOptions {
  /**
   * Sends insert step `index` some other way (online WriteRows to the write log); resolves false
   * to keep the offline Insert. `columns` are the group's columns at that step.
   */
  readonly insert?: (project: string, group: GenGroup, columns: readonly GenColumn[], step: GenStep & { kind: "insert" }, index: number) => Promise<boolean>;
  /** Runs before every offline Insert and DeleteRows of the history. */
  readonly beforeOfflineWrite?: (project: string, group: GenGroup) => Promise<void>;
  /** Runs after the history is played, before the view is created (waits for what `insert` sent to reach offline). */
  readonly afterHistory?: (project: string) => Promise<void>;
}

/** Creates the case's project, groups, history and view. */
export async function playCase(stack: OfflineStack, project: string, c: GenCase, play: PlayOptions = {}): Promise<FeatureView> {
  const { md, off } = stack;
  await md.createProject({ name: project });
  for (const g of c.groups) {
    await md.createFeatureGroup({
      featureGroup: {
        project,
        name: g.name,
        version: 1,
        onlineEnabled: true,
        primaryKey: [...g.primaryKey],
        eventTime: g.eventTime,
        columns: g.columns.map((col) => ({ name: col.name, type: dataType(col.type) })),
        ...(g.onlineTtlHours ? { onlineTtl: durationFromMs(g.onlineTtlHours * 3_600_000) } : {}),
      },
    });
  }
  const live = new Map<string, GenColumn[]>(c.groups.map((g) => [g.name, [...g.columns]]));
  for (const [index, step] of c.steps.entries()) {
    const cols = live.get(step.group)!;
    const group = c.groups.find((g) => g.name === step.group)!;
    if (step.kind === "append") {
      const col = step.column;
      await md.appendFeatures({
        project,
        name: step.group,
        version: 1,
        columns: [
          { name: col.name, type: dataType(col.type), ...(col.defaultValue !== undefined ? { defaultValue: valueOf(col.type, col.defaultValue) } : {}) },
        ],
      });
      cols.push(col);
    } else if (step.kind === "insert") {
      if (play.insert && (await play.insert(project, group, cols, step, index))) continue;
      await play.beforeOfflineWrite?.(project, group);
      const table = tableOf(cols, step.rows);
      await retrying(() => off.insert(framed(project, step.group, table)), 15_000);
    } else {
      await play.beforeOfflineWrite?.(project, group);
      const table = tableOf(
        cols.filter((x) => group.primaryKey.includes(x.name)),
        step.keys,
      );
      await retrying(() => off.deleteRows(framed(project, step.group, table)), 15_000);
    }
  }
  await play.afterHistory?.(project);
  const groups = new Map(c.groups.map((g) => [g.name, g] as const));
  const { featureView } = await md.createFeatureView({
    featureView: {
      project,
      ...VIEW,
      query: {
        featureGroup: { name: c.view.root, version: 1 },
        selection: selectionOf(c.view.selection),
        ...filterOf(c.view.filter, groups.get(c.view.root)!.columns),
        joins: c.view.joins.map((j) => joinOf(j, groups)),
      } as unknown as Query,
      onDemandFeatures: c.view.onDemand.map((o) => ({ name: o.name, type: dataType(o.type), expression: o.expression })),
    },
  });
  return featureView!;
}

/** Every key of the root group ever written or deleted, and one never written. */
export function rootEntities(c: GenCase): Record<string, Cell>[] {
  const root = c.groups.find((g) => g.name === c.view.root)!;
  const seen = new Map<string, Record<string, Cell>>();
  for (const step of c.steps) {
    if (step.group !== root.name || step.kind === "append") continue;
    for (const row of step.kind === "insert" ? step.rows : step.keys) {
      seen.set(keyText(root, row), Object.fromEntries(root.primaryKey.map((k) => [k, row[k]!])));
    }
  }
  const absent = Object.fromEntries(
    root.primaryKey.map((k) => [
      k,
      root.columns.find((x) => x.name === k)!.type.scalar === S.STRING
        ? "absent"
        : root.columns.find((x) => x.name === k)!.type.scalar === S.INT64
          ? 999n
          : 999,
    ]),
  );
  return [...seen.values(), absent];
}

/** Online vectors at now against offline rows at now, value by value, and CheckConsistency's verdict. */
export interface CompareOptions {
  /** Whether CheckConsistency can be asked about entities with these serving-key types. */
  readonly consistencyFor: (keyTypes: readonly DataType[]) => boolean;
  /** Counts what the comparisons covered, so a run shows it did compare something. */
  readonly tally?: Map<string, number>;
}

function count(tally: Map<string, number> | undefined, what: string, n = 1): void {
  tally?.set(what, (tally.get(what) ?? 0) + n);
}

export async function compareOnce(
  stack: OfflineStack,
  project: string,
  c: GenCase,
  view: FeatureView,
  entities: readonly Record<string, Cell>[],
  options: CompareOptions,
): Promise<string[]> {
  const root = c.groups.find((g) => g.name === c.view.root)!;
  const keys = view.servingKeys.filter((k) => k.required);
  const keyColumns = keys.map((k) => ({
    name: k.name,
    data: columnData(
      k.type!,
      entities.map((e) => e[k.column] ?? null),
    ),
  }));
  const problems: string[] = [];
  const { vectors } = await stack.on.getFeatureVectors({
    project,
    featureView: VIEW,
    entities: { rowCount: entities.length, servingKeys: keyColumns },
    options: { untransformed: true },
  });
  const nowUs = BigInt(Date.now()) * 1000n;
  const typeOf = new Map((vectors?.columns ?? []).map((x) => [x.name, x.type!] as const));
  const offline = await offlineRows(stack, project, root, keys, entities, nowUs, typeOf);
  if (offline.dropped > 0) count(options.tally, "entities dropped offline (filters)", offline.dropped);
  const expected = [...view.outputColumns.map((o) => o.name), ...view.onDemandFeatures.map((o) => o.name)];
  const onlineNames = (vectors?.columns ?? []).map((x) => x.name);
  for (const name of expected) {
    if (!onlineNames.includes(name)) problems.push(`column ${name} of the view is not in the online vector`);
    if (!offline.names.has(name)) problems.push(`column ${name} of the view is not in the offline rows`);
  }
  for (const col of vectors?.columns ?? []) {
    const offlineValues = offline.columns.get(col.name);
    if (!offlineValues) continue;
    const type = col.type!;
    const read = onlineReader(col.values, type);
    entities.forEach((e, i) => {
      const status = col.statuses[i] ?? ValueStatus.UNSPECIFIED;
      const on = status === ValueStatus.PRESENT ? JSON.stringify(normal(type, read(i))) : "null";
      const offV = JSON.stringify(normal(type, offlineValues[i]));
      count(options.tally, `cells ${ValueStatus[status]}`);
      if (on !== offV) problems.push(`entity ${keyText(root, e)} column ${col.name}: online ${ValueStatus[status]} ${on}, offline ${offV}`);
    });
  }
  count(options.tally, "entities", entities.length);
  if (!options.consistencyFor(keys.map((k) => k.type!))) return problems;
  count(options.tally, "CheckConsistency calls");
  const report = await consistencyReport(
    stack,
    project,
    keys.map((k) => ({
      name: k.name,
      data: columnData(
        k.type!,
        entities.map((e) => e[k.column] ?? null),
      ),
    })),
    entities.length,
  );
  if (report.mismatches !== 0n) {
    const examples = report.features
      .filter((f) => f.mismatches > 0n)
      .map(
        (f) =>
          `${f.name}: ${f.mismatches} (${f.examples.map((x) => `online ${ValueStatus[x.onlineStatus]} ${shown(x.onlineValue)} offline ${ValueStatus[x.offlineStatus]} ${shown(x.offlineValue)}`).join("; ")})`,
      );
    problems.push(`CheckConsistency: ${report.mismatches} mismatches: ${examples.join(", ")}`);
  }
  if ((report.missingOnline?.count ?? 0n) !== 0n) problems.push(`CheckConsistency: ${report.missingOnline!.count} entities missing online`);
  if ((report.missingOffline?.count ?? 0n) !== 0n) problems.push(`CheckConsistency: ${report.missingOffline!.count} entities missing offline`);
  return problems;
}

const shown = (v: Value | undefined) => (v?.kind.case ? toJsonString(ValueSchema, v) : "null");

interface OfflineRows {
  readonly names: ReadonlySet<string>;
  /** Aligned with the entities; null where a filter dropped the entity's row. */
  readonly columns: ReadonlyMap<string, (PlainValue | null)[]>;
  readonly dropped: number;
}

/** GetTrainingData with a spine of `entities` at `nowUs`; one entity at a time when filters dropped rows (the output does not say which). */
async function offlineRows(
  stack: OfflineStack,
  project: string,
  root: GenGroup,
  keys: FeatureView["servingKeys"],
  entities: readonly Record<string, Cell>[],
  nowUs: bigint,
  typeOf: ReadonlyMap<string, DataType>,
): Promise<OfflineRows> {
  const read = async (batch: readonly Record<string, Cell>[]) => {
    const spine = new arrow.Table(
      Object.fromEntries([
        ...keys.map(
          (k) =>
            [
              k.name,
              arrow.makeVector(
                buildColumn(
                  k.type!,
                  batch.map((e) => (e[k.column] ?? null) as PlainValue | null),
                ),
              ),
            ] as const,
        ),
        [
          root.eventTime,
          arrow.makeVector(
            buildColumn(
              { scalar: S.TIMESTAMP, list: false } as DataType,
              batch.map(() => nowUs),
            ),
          ),
        ] as const,
      ]),
    );
    async function* training() {
      yield {
        message: {
          case: "query" as const,
          value: { project, featureView: VIEW, untransformed: true, spine: { kind: { case: "streamed", value: true } } } as unknown as TrainingDataQuery,
        },
      };
      for (const ipc of arrowPayloads(spine)) yield { message: { case: "spineChunk" as const, value: { ipc } } };
    }
    const table = await tableFromChunks(stack.off.getTrainingData(training()));
    const columns = new Map<string, (PlainValue | null)[]>();
    for (const field of table.schema.fields) {
      const type = typeOf.get(field.name);
      if (!type) continue;
      const values: (PlainValue | null)[] = [];
      for (const data of table.getChild(field.name)!.data) {
        const reader = valueReader(data, type);
        for (let i = 0; i < data.length; i++) values.push(reader(i));
      }
      columns.set(field.name, values);
    }
    return { rows: table.numRows, names: new Set(table.schema.fields.map((f) => f.name)), columns };
  };
  const all = await read(entities);
  if (all.rows === entities.length) return { names: all.names, columns: all.columns, dropped: 0 };
  const columns = new Map([...all.names].map((n) => [n, [] as (PlainValue | null)[]] as const));
  let dropped = 0;
  for (const e of entities) {
    const one = await read([e]);
    if (one.rows === 0) dropped++;
    for (const [name, values] of columns) values.push(one.rows === 0 ? null : (one.columns.get(name)?.[0] ?? null));
  }
  return { names: all.names, columns, dropped };
}

async function consistencyReport(stack: OfflineStack, project: string, columns: { name: string; data: ColumnData }[], rowCount: number) {
  for await (const m of stack.off.checkConsistency({
    project,
    featureView: VIEW,
    entities: { case: "entityRows", value: { rowCount, columns } },
    tolerance: { relative: 0, absolute: 0 },
  })) {
    if (m.message.case === "report") return m.message.value;
  }
  throw new Error("CheckConsistency ended without a report");
}

/**
 * Plays the case and compares until both sides agree or `settleMs` passes (Insert's online push
 * may complete after Insert returns). Returns the problems of the last comparison.
 */
export async function checkCase(
  stack: OfflineStack,
  project: string,
  c: GenCase,
  settleMs: number,
  options: CompareOptions,
  play: PlayOptions = {},
): Promise<string[]> {
  const view = await playCase(stack, project, c, play);
  const entities = rootEntities(c);
  const until = Date.now() + settleMs;
  for (;;) {
    // Online and offline learn of a new view from metadata's change feed: NOT_FOUND for a moment.
    const tally = new Map<string, number>();
    const problems = await compareOnce(stack, project, c, view, entities, { ...options, tally }).catch((err: unknown) => [
      `error: ${err instanceof Error ? (process.env.GRANARY_PROPERTY_STACKS === "1" ? err.stack : err.message) : String(err)}`,
    ]);
    if (problems.length === 0 || Date.now() > until) {
      for (const [k, n] of tally) count(options.tally, k, n);
      return problems;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
