import { arrowPayloads, buildColumn, valueReader } from "@granary/arrow";
import type { PlainValue } from "@granary/cel";
import { ColumnRole, type FeatureView } from "@granary/proto/metadata";
import { ScalarType, type DataType } from "@granary/proto/types";
import * as arrow from "apache-arrow";
import { streamTrainingData, type TransformSource } from "../training/training-data.js";
import type { TrainingDeps } from "../training/training-deps.js";
import { spineTimeColumn } from "../training/training-query.js";
import type { ViewPlan } from "../training/view-plan.js";
import type { Entities, ValueColumn } from "./entities.js";

const TIMESTAMP = { scalar: ScalarType.TIMESTAMP, list: false, dimension: 0 } as DataType;

/** Offline values of a batch of entities, aligned with them; `found[i]` false when no group has a row for entity i. */
export interface OfflineRows {
  readonly columns: ReadonlyMap<string, { readonly type: DataType; readonly values: readonly (PlainValue | null)[] }>;
  readonly found: readonly boolean[];
}

/**
 * The point-in-time rows of `entities` as of `asOfMicros`, read exactly as GetTrainingData reads
 * them: a spine of the entities (serving keys, request parameters) all at that instant, the view's
 * feature columns, on-demand features and, with `source`, its transformations.
 */
export async function offlineRows(
  deps: TrainingDeps,
  project: string,
  plan: ViewPlan,
  entities: Entities,
  asOfMicros: bigint,
  source: TransformSource,
  signal: AbortSignal,
): Promise<OfflineRows> {
  const rows = await pitRows(deps, project, plan, entities, asOfMicros, source, signal);
  if (rows.found.length === entities.count) return rows;
  // Inner joins and filters drop spine rows, and the output does not say which: read one by one.
  const columns = new Map<string, { type: DataType; values: (PlainValue | null)[] }>();
  const found: boolean[] = [];
  for (let i = 0; i < entities.count; i++) {
    const one = await pitRows(deps, project, plan, pick(entities, i), asOfMicros, source, signal);
    const hit = one.found.length === 1;
    found.push(hit && one.found[0]!);
    for (const [name, c] of one.columns) {
      if (!columns.has(name)) columns.set(name, { type: c.type, values: Array.from({ length: i }, () => null) });
      columns.get(name)!.values.push(hit ? (c.values[0] ?? null) : null);
    }
  }
  return { columns, found };
}

async function pitRows(
  deps: TrainingDeps,
  project: string,
  plan: ViewPlan,
  entities: Entities,
  asOfMicros: bigint,
  source: TransformSource,
  signal: AbortSignal,
): Promise<OfflineRows> {
  const view = plan.view;
  const rootNode = plan.nodes[0]!;
  const root = rootNode.group;
  const timeName = spineTimeColumn(plan);
  const timeType = root.columns.find((c) => c.name === root.eventTime)?.type ?? TIMESTAMP;
  const time: ValueColumn = {
    name: timeName,
    type: timeType,
    values: Array.from({ length: entities.count }, () => (timeType.scalar === ScalarType.DATE ? Number(asOfMicros / 86_400_000_000n) : asOfMicros)),
  };
  // A parameter named as the time column is that column (see withTimeParameter).
  const spineColumns = [...entities.keys, time, ...entities.parameters.filter((p) => p.name !== timeName)];
  const spine = new arrow.Table(Object.fromEntries(spineColumns.map((c) => [c.name, arrow.makeVector(buildColumn(c.type, c.values))])));
  async function* chunks() {
    yield* arrowPayloads(spine);
  }
  // What a lookup by key serves: the view's filters and inner joins select training rows, not vectors.
  const query = { spine: { kind: "streamed" as const, chunks: chunks() }, roles: new Set([ColumnRole.FEATURE]), includeEventTimes: true, selectRows: false };
  const parts: Uint8Array[] = [];
  for await (const ipc of streamTrainingData(deps, project, view, query, source, signal)) parts.push(ipc);
  const table = arrow.tableFromIPC(parts);
  const types = typesOf(view);
  const columns = new Map<string, { type: DataType; values: (PlainValue | null)[] }>();
  for (const field of table.schema.fields) {
    const type = types.get(field.name) ?? (field.name.endsWith("_event_time") ? TIMESTAMP : undefined);
    if (!type) continue;
    const values: (PlainValue | null)[] = [];
    for (const data of table.getChild(field.name)!.data) {
      const read = valueReader(data, type);
      for (let i = 0; i < data.length; i++) values.push(read(i));
    }
    columns.set(field.name, { type, values });
  }
  const times = table.schema.fields.filter((f) => !types.has(f.name) && f.name.endsWith("_event_time")).map((f) => columns.get(f.name)!);
  const keys = new Set(entities.keys.map((k) => k.name));
  const values = [...columns].filter(([name]) => types.has(name) && !keys.has(name)).map(([, c]) => c);
  const found = Array.from({ length: table.numRows }, (_, i) => (times.length > 0 ? times : values).some((c) => c.values[i] !== null));
  return { columns, found };
}

function typesOf(view: FeatureView): Map<string, DataType> {
  return new Map([...view.outputColumns.map((c) => [c.name, c.type!] as const), ...view.onDemandFeatures.map((f) => [f.name, f.type!] as const)]);
}

function pick(e: Entities, i: number): Entities {
  const one = (c: ValueColumn): ValueColumn => ({ ...c, values: [c.values[i] ?? null] });
  return { count: 1, keys: e.keys.map(one), parameters: e.parameters.map(one) };
}
