import { FailedPreconditionError } from "@granary/errors";
import { ColumnRole, JoinType, type FeatureGroup, type FeatureView, type Filter, type OutputColumn } from "@granary/proto/metadata";

/** One feature group of a view's query tree, in the view's column order (depth first). */
export interface PlanNode {
  readonly index: number;
  readonly group: FeatureGroup;
  /** Prefix of this subtree's output names (the enclosing joins' prefixes, outer first). */
  readonly prefix: string;
  readonly parent: number | undefined;
  /** The parent group's columns the join reads, paired with `rightOn`. */
  readonly leftOn: readonly string[];
  /** This group's primary key, in key order. */
  readonly rightOn: readonly string[];
  readonly inner: boolean;
  readonly filter: Filter | undefined;
  /** The view's output columns this group fills, with the group column each reads. */
  readonly outputs: readonly { readonly column: string; readonly output: OutputColumn }[];
  /** Every column of the group a query reads: outputs, keys of joins below, filter columns. */
  readonly needed: ReadonlySet<string>;
  readonly ttlMicros: bigint | undefined;
}

export interface ViewPlan {
  readonly view: FeatureView;
  readonly nodes: readonly PlanNode[];
}

/**
 * The groups of a view's query with the output columns each fills, compiled from the metadata
 * service's resolution of the view (FeatureView.resolved) and nothing else; only settings of the
 * groups themselves (columns, types, event time, online_ttl) come from the groups.
 */
export function compileViewPlan(view: FeatureView, groupOf: (name: string, version: number) => FeatureGroup | undefined): ViewPlan {
  const resolved = view.resolved;
  if (!resolved || resolved.columns.length !== view.outputColumns.length) {
    throw new FailedPreconditionError(
      `feature view "${view.name}" version ${view.version} has no resolution from the metadata service; restart the metadata service so it resolves views stored before it did`,
    );
  }
  const outputs = resolved.groups.map((): { column: string; output: OutputColumn }[] => []);
  view.outputColumns.forEach((output, i) => {
    const origin = resolved.columns[i]!;
    if (origin.group >= 0 && output.role !== ColumnRole.ON_DEMAND) outputs[origin.group]!.push({ column: origin.sourceColumn, output });
  });
  const nodes = resolved.groups.map((node, index): PlanNode => {
    const ref = node.featureGroup!;
    const group = groupOf(ref.name, ref.version);
    if (!group)
      throw new FailedPreconditionError(
        `feature view "${view.name}" version ${view.version} reads feature group "${ref.name}" version ${ref.version}, which does not exist`,
      );
    return {
      index,
      group,
      prefix: node.prefix,
      parent: node.parent < 0 ? undefined : node.parent,
      leftOn: node.leftOn,
      rightOn: node.rightOn,
      inner: node.joinType === JoinType.INNER,
      filter: node.filter,
      outputs: outputs[index]!,
      needed: new Set(node.readColumns),
      ttlMicros: group.onlineTtl ? group.onlineTtl.seconds * 1_000_000n + BigInt(Math.floor(group.onlineTtl.nanos / 1000)) : undefined,
    };
  });
  return { view, nodes };
}
