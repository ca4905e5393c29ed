import { NotFoundError, FailedPreconditionError } from "@granary/errors";
import { compileExpression, type CompiledExpression } from "@granary/cel";
import { ColumnRole, type FeatureGroup, type FeatureView, type OutputColumn } from "@granary/proto/metadata";
import { equals } from "@bufbuild/protobuf";
import { DataTypeSchema, type DataType } from "@granary/proto/types";
import { cellOf, encodeRowDefaults, type RowDefaults } from "../store/row-codec.js";

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
  /** Defaults of columns appended with one, for rows written before them (undefined: none). */
  readonly defaults: RowDefaults | undefined;
  readonly keyTypes: readonly DataType[];
  readonly keySources: readonly KeySource[];
  /** Output slot of each group column (-1: not an output). */
  readonly outputSlots: Int32Array;
  /** Group columns later steps read their keys from. */
  readonly capturedColumns: readonly number[];
  /** Output slots that are a part of this group's key: filled from the key the group was looked up with. */
  readonly keySlots: readonly { readonly part: number; readonly slot: number }[];
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
  /**
   * Output columns that are a join column of a group that is not online (a label group: the root
   * of the view, read offline only), standing for a serving key: the caller's serving key is the
   * column's value (the join gives them the same value in training data), not a null.
   */
  readonly servingFills: readonly { readonly step: number; readonly slot: number; readonly servingName: string }[];
}

const SERVED_ROLES = new Set([ColumnRole.FEATURE, ColumnRole.ON_DEMAND, ColumnRole.INFERENCE_HELPER]);

/**
 * Compiles a view from the metadata service's resolution of it (FeatureView.resolved), and nothing
 * else: one step per query node in its order (every key source comes before its use), output slots
 * from each column's node and source column, key sources as resolved. Only settings of the groups
 * themselves (columns, types, defaults of appended columns, online_ttl) come from the groups.
 */
export function compileViewPlan(view: FeatureView, groupOf: (name: string, version: number) => FeatureGroup | undefined): ViewPlan {
  const resolved = view.resolved;
  if (!resolved || resolved.columns.length !== view.outputColumns.length) {
    throw new FailedPreconditionError(
      `feature view "${view.name}" version ${view.version} has no resolution from the metadata service; restart the metadata service so it resolves views stored before it did`,
    );
  }
  const steps: (GroupStep & { capturedColumns: number[]; outputSlots: Int32Array })[] = [];
  const columnIndexes: Map<string, number>[] = [];
  for (const node of resolved.groups) {
    const ref = node.featureGroup!;
    const group = groupOf(ref.name, ref.version);
    if (!group) {
      const message = `feature view "${view.name}" version ${view.version} reads feature group "${ref.name}" version ${ref.version}, which no longer exists`;
      throw node.parent < 0 ? new NotFoundError(message) : new FailedPreconditionError(message);
    }
    const columnIndex = new Map(group.columns.map((c, i) => [c.name, i]));
    columnIndexes.push(columnIndex);
    const keySources = node.keySources.map((k): KeySource => {
      switch (k.source.case) {
        case "parentKeyPart":
          return { kind: "key", step: node.parent, part: k.source.value };
        case "parentColumn": {
          const parent = steps[node.parent]!;
          const column = columnIndexes[node.parent]!.get(k.source.value)!;
          if (!parent.capturedColumns.includes(column)) parent.capturedColumns.push(column);
          return { kind: "row", step: node.parent, column, servingName: k.servingKeyOverride };
        }
        default:
          return { kind: "serving", name: k.source.case === "servingKey" ? k.source.value : k.column };
      }
    });
    const types = group.columns.map((c) => c.type!);
    steps.push({
      group,
      types,
      defaults: encodeRowDefaults(
        types,
        group.columns.map((c) => (c.defaultValue ? cellOf(c.defaultValue) : null)),
      ),
      keyTypes: group.primaryKey.map((k) => group.columns[columnIndex.get(k)!]!.type!),
      keySources,
      outputSlots: new Int32Array(group.columns.length).fill(-1),
      keySlots: [],
      capturedColumns: [],
      ttlMicros: group.onlineTtl ? group.onlineTtl.seconds * 1_000_000n + BigInt(Math.floor(group.onlineTtl.nanos / 1000)) : undefined,
    });
  }

  const outputs: OutputSlot[] = [];
  const slotByName = new Map<string, number>();
  view.outputColumns.forEach((column, i) => {
    if (!SERVED_ROLES.has(column.role)) return;
    const origin = resolved.columns[i]!;
    const slot = outputs.length;
    slotByName.set(column.name, slot);
    const step = origin.group >= 0 ? origin.group : undefined;
    outputs.push({ column, step });
    if (step === undefined) return;
    // A key column is the key the group is looked up with, as in training data's spine: it is filled
    // from the key even when the row is missing or expired.
    if (origin.keyPart !== undefined) (steps[step]!.keySlots as { part: number; slot: number }[]).push({ part: origin.keyPart, slot });
    else steps[step]!.outputSlots[columnIndexes[step]!.get(origin.sourceColumn)!] = slot;
  });

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

  const requiredServingKeys = view.servingKeys.filter((k) => k.required).map((k) => k.name);
  const servingKeyTypes = new Map(view.servingKeys.map((k) => [k.name, k.type!]));
  const servingFills: { step: number; slot: number; servingName: string }[] = [];
  const fill = (step: number, slot: number, servingName: string) => {
    if (slot >= 0 && !steps[step]!.group.onlineEnabled && !servingFills.some((f) => f.slot === slot)) servingFills.push({ step, slot, servingName });
  };
  // The join column a later group is looked up by, standing for a serving key…
  for (const step of steps) {
    for (const src of step.keySources) {
      if (src.kind === "row" && src.servingName && servingKeyTypes.has(src.servingName))
        fill(src.step, steps[src.step]!.outputSlots[src.column]!, src.servingName);
    }
  }
  // …or a column of the group named as a serving key, of its type (the serving key a view of a
  // label group is looked up with is that group's join column).
  outputs.forEach((o, slot) => {
    const type = servingKeyTypes.get(o.column.name);
    if (o.step !== undefined && type && o.column.type && equals(DataTypeSchema, type, o.column.type)) fill(o.step, slot, o.column.name);
  });
  return { view, steps, outputs, onDemand, requiredServingKeys, servingKeyTypes, servingFills };
}
