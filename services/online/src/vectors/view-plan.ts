import { NotFoundError, FailedPreconditionError } from "@granary/errors";
import { compileExpression, type CompiledExpression } from "@granary/cel";
import { ColumnRole, SelectionMode, type FeatureGroup, type FeatureView, type Join, type OutputColumn, type Query } from "@granary/proto/metadata";
import type { DataType } from "@granary/proto/types";

/** Where one part of a group's key comes from. */
export type KeySource =
  | { readonly kind: "serving"; readonly name: string }
  /** A column of an earlier step's row (a foreign key); a caller-given serving key overrides it. */
  | { readonly kind: "row"; readonly step: number; readonly column: number; readonly servingName: string }
  /** The same value as an earlier step's key part (joined on that group's primary key). */
  | { readonly kind: "key"; readonly step: number; readonly part: number };

/** One group to look up per entity, in an order where every key source comes before its use. */
export interface GroupStep {
  readonly group: FeatureGroup;
  readonly types: readonly DataType[];
  readonly keyTypes: readonly DataType[];
  readonly keySources: readonly KeySource[];
  /** Output slot of each group column (-1: not an output). */
  readonly outputSlots: Int32Array;
  /** Group columns later steps read their keys from. */
  readonly capturedColumns: readonly number[];
  readonly ttlMicros: bigint | undefined;
}

export interface OutputSlot {
  readonly column: OutputColumn;
  /** The step that fills it; undefined for on-demand features. */
  readonly step: number | undefined;
}

export interface OnDemandSlot {
  readonly slot: number;
  readonly expression: CompiledExpression;
  /** Output slots that feed the expression, by variable name. */
  readonly inputs: ReadonlyMap<string, number>;
  readonly parameters: ReadonlyMap<string, DataType>;
}

/** A feature view compiled for online lookups; built once per view version and cached. */
export interface ViewPlan {
  readonly view: FeatureView;
  readonly steps: readonly GroupStep[];
  /** Every output column of the view except labels and training helpers, in view order. */
  readonly outputs: readonly OutputSlot[];
  readonly onDemand: readonly OnDemandSlot[];
  readonly requiredServingKeys: readonly string[];
  readonly servingKeyTypes: ReadonlyMap<string, DataType>;
}

const SERVED_ROLES = new Set([ColumnRole.FEATURE, ColumnRole.ON_DEMAND, ColumnRole.INFERENCE_HELPER]);

/**
 * Compiles a view: one step per group in the query (depth first, as the view's columns are
 * ordered), each step's key parts traced to serving keys, earlier keys or earlier rows.
 */
export function compileViewPlan(view: FeatureView, groupOf: (name: string, version: number) => FeatureGroup | undefined): ViewPlan {
  const outputs: OutputSlot[] = [];
  const slotByName = new Map<string, number>();
  for (const column of view.outputColumns) {
    if (!SERVED_ROLES.has(column.role)) continue;
    slotByName.set(column.name, outputs.length);
    outputs.push({ column, step: undefined });
  }
  const steps: GroupStep[] = [];
  const servingKeyTypes = new Map(view.servingKeys.map((k) => [k.name, k.type!]));

  const visit = (query: Query, prefix: string, keySources: KeySource[]): number => {
    const ref = query.featureGroup!;
    const group = groupOf(ref.name, ref.version);
    if (!group) throw new FailedPreconditionError(`feature view "${view.name}" version ${view.version} reads feature group "${ref.name}" version ${ref.version}, which no longer exists`);
    const index = steps.length;
    const columnIndex = new Map(group.columns.map((c, i) => [c.name, i]));
    const outputSlots = new Int32Array(group.columns.length).fill(-1);
    const droppedKeys = new Set(keySources.length > 0 ? group.primaryKey : []);
    for (const name of selectedColumns(query, group)) {
      if (droppedKeys.has(name)) continue;
      const slot = slotByName.get(prefix + name);
      if (slot === undefined) continue;
      outputSlots[columnIndex.get(name)!] = slot;
      outputs[slot] = { column: outputs[slot]!.column, step: index };
    }
    const step: GroupStep & { capturedColumns: number[] } = {
      group,
      types: group.columns.map((c) => c.type!),
      keyTypes: group.primaryKey.map((k) => group.columns[columnIndex.get(k)!]!.type!),
      keySources,
      outputSlots,
      capturedColumns: [],
      ttlMicros: group.onlineTtl ? group.onlineTtl.seconds * 1_000_000n + BigInt(Math.floor(group.onlineTtl.nanos / 1000)) : undefined,
    };
    steps.push(step);
    for (const join of query.joins) {
      const right = groupOf(join.query!.featureGroup!.name, join.query!.featureGroup!.version);
      if (!right) throw new FailedPreconditionError(`feature view "${view.name}" reads a feature group that no longer exists`);
      const pairs = joinPairs(join, right);
      const sources: KeySource[] = pairs.map(({ left }) => {
        const leftPart = group.primaryKey.indexOf(left);
        const servingName = prefix + left;
        if (group.onlineEnabled && leftPart >= 0) return { kind: "key", step: index, part: leftPart };
        if (group.onlineEnabled) {
          const column = columnIndex.get(left)!;
          if (!step.capturedColumns.includes(column)) step.capturedColumns.push(column);
          return { kind: "row", step: index, column, servingName };
        }
        return { kind: "serving", name: servingName };
      });
      visit(join.query!, prefix + join.prefix, sources);
    }
    return index;
  };

  const root = view.query!;
  const rootGroup = groupOf(root.featureGroup!.name, root.featureGroup!.version);
  if (!rootGroup) throw new NotFoundError(`feature group "${root.featureGroup!.name}" of the view no longer exists`);
  visit(root, "", rootGroup.primaryKey.map((name) => ({ kind: "serving", name })));

  const onDemand = view.onDemandFeatures.map((f) => {
    const inputs = new Map<string, number>();
    const types = new Map<string, DataType>();
    outputs.forEach((o, slot) => {
      if (o.column.role === ColumnRole.FEATURE) {
        inputs.set(o.column.name, slot);
        types.set(o.column.name, o.column.type!);
      }
    });
    const parameters = new Map(f.requestParameters.map((p) => [p.name, p.type!]));
    for (const [name, type] of parameters) types.set(name, type);
    return { slot: slotByName.get(f.name)!, expression: compileExpression(f.expression, types, f.type!), inputs, parameters };
  });

  // The root's key is needed only when the root group can be read online.
  const requiredServingKeys = view.servingKeys.filter((k) => k.required).map((k) => k.name);
  return { view, steps, outputs, onDemand, requiredServingKeys, servingKeyTypes };
}

function selectedColumns(query: Query, group: FeatureGroup): string[] {
  const all = group.columns.map((c) => c.name);
  const listed = query.selection?.columns ?? [];
  switch (query.selection?.mode) {
    case SelectionMode.INCLUDE:
      return listed;
    case SelectionMode.EXCEPT:
      return all.filter((c) => !listed.includes(c));
    default:
      return all;
  }
}

/** The join's (left column, right primary-key column) pairs, in the right group's key order. */
function joinPairs(join: Join, right: FeatureGroup): { left: string; right: string }[] {
  let pairs: { left: string; right: string }[];
  if (join.on.length > 0) pairs = join.on.map((c) => ({ left: c, right: c }));
  else if (join.leftOn.length > 0) pairs = join.leftOn.map((l, i) => ({ left: l, right: join.rightOn[i]! }));
  else pairs = right.primaryKey.map((c) => ({ left: c, right: c }));
  return right.primaryKey.map((pk) => pairs.find((p) => p.right === pk)!);
}
