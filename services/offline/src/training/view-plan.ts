import { FailedPreconditionError } from "@granary/errors";
import { ColumnRole, JoinType, SelectionMode, type FeatureGroup, type FeatureView, type Filter, type Join, type OutputColumn, type Query } from "@granary/proto/metadata";
import { filterColumns } from "../sql/filter-sql.js";

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
 * The groups of a view's query, each with the output columns it fills. Join keys follow the
 * metadata service's rules (on, left_on/right_on, else the right group's primary key), paired in
 * the right group's key order; a joined group's key columns are filled by the join, so they are
 * not its outputs.
 */
export function compileViewPlan(view: FeatureView, groupOf: (name: string, version: number) => FeatureGroup | undefined): ViewPlan {
  const byName = new Map(view.outputColumns.map((c) => [c.name, c]));
  const nodes: PlanNode[] = [];
  const visit = (query: Query, prefix: string, parent: number | undefined, join: Join | undefined, filledByJoin: ReadonlySet<string>): void => {
    const ref = query.featureGroup!;
    const group = groupOf(ref.name, ref.version);
    if (!group) throw new FailedPreconditionError(`feature view "${view.name}" version ${view.version} reads feature group "${ref.name}" version ${ref.version}, which does not exist`);
    const parentGroup = parent === undefined ? undefined : nodes[parent]!.group;
    const pairs = join && parentGroup ? joinPairs(join, group) : [];
    const outputs = selectedColumns(query, group)
      .filter((c) => !filledByJoin.has(c))
      .flatMap((column) => {
        const output = byName.get(prefix + column);
        return output && output.role !== ColumnRole.ON_DEMAND ? [{ column, output }] : [];
      });
    const index = nodes.length;
    const needed = new Set([...outputs.map((o) => o.column), ...filterColumns(query.filter)]);
    const node: PlanNode = {
      index,
      group,
      prefix,
      parent,
      leftOn: pairs.map((p) => p.left),
      rightOn: pairs.map((p) => p.right),
      inner: join?.type === JoinType.INNER,
      filter: query.filter,
      outputs,
      needed,
      ttlMicros: group.onlineTtl ? group.onlineTtl.seconds * 1_000_000n + BigInt(Math.floor(group.onlineTtl.nanos / 1000)) : undefined,
    };
    nodes.push(node);
    for (const child of query.joins) {
      const right = groupOf(child.query!.featureGroup!.name, child.query!.featureGroup!.version);
      if (!right) throw new FailedPreconditionError(`feature view "${view.name}" version ${view.version} reads a feature group that does not exist`);
      for (const p of joinPairs(child, right)) needed.add(p.left);
      visit(child.query!, prefix + child.prefix, index, child, new Set(right.primaryKey));
    }
  };
  visit(view.query!, "", undefined, undefined, new Set());
  return { view, nodes };
}

function selectedColumns(query: Query, group: FeatureGroup): string[] {
  const all = group.columns.map((c) => c.name);
  const listed = query.selection?.columns ?? [];
  switch (query.selection?.mode) {
    case SelectionMode.INCLUDE:
      return [...listed];
    case SelectionMode.EXCEPT:
      return all.filter((c) => !listed.includes(c));
    default:
      return all;
  }
}

/** The join's (left column, right primary-key column) pairs, in the right group's key order. */
export function joinPairs(join: Join, right: FeatureGroup): { left: string; right: string }[] {
  let pairs: { left: string; right: string }[];
  if (join.on.length > 0) pairs = join.on.map((c) => ({ left: c, right: c }));
  else if (join.leftOn.length > 0) pairs = join.leftOn.map((l, i) => ({ left: l, right: join.rightOn[i]! }));
  else pairs = right.primaryKey.map((c) => ({ left: c, right: c }));
  return right.primaryKey.map((pk) => pairs.find((p) => p.right === pk)!).filter(Boolean);
}
