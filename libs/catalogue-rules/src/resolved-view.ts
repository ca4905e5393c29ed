import { clone, create } from "@bufbuild/protobuf";
import {
  FilterSchema,
  JoinType,
  KeySourceSchema,
  ResolvedColumnSchema,
  ResolvedGroupSchema,
  ResolvedViewSchema,
  type Filter,
  type KeySource,
  type OutputColumn,
  type Query,
  type ResolvedGroup,
  type ResolvedView,
} from "@granary/proto/metadata";
import { FeatureGroupRefSchema } from "@granary/proto/types";
import type { ResolvedQuery } from "./query-tree.js";

/**
 * The view as every reader needs it: the query tree flattened depth first (the order of the output
 * columns), each output column traced to the node and column that fill it, and for every node where an
 * online lookup takes each part of its key. `query` is the definition `tree` was resolved from; the two
 * have the same shape.
 */
export function buildResolvedView(query: Query, tree: ResolvedQuery, outputColumns: readonly OutputColumn[]): ResolvedView {
  const groups: ResolvedGroup[] = [];
  /** Output name → (node, column) for every column a node fills. */
  const filled = new Map<string, { node: number; column: string }>();

  const visit = (q: Query, node: ResolvedQuery, parent: number, joinType: JoinType, leftOn: readonly string[], rightOn: readonly string[]): void => {
    const index = groups.length;
    const group = node.group.group;
    const resolved = create(ResolvedGroupSchema, {
      featureGroup: clone(FeatureGroupRefSchema, node.group.ref),
      parent,
      prefix: node.prefix,
      leftOn: [...leftOn],
      rightOn: [...rightOn],
      joinType,
      filter: q.filter ? clone(FilterSchema, q.filter) : undefined,
      keySources: parent < 0 ? group.primaryKey.map((column) => keySource(column, { case: "servingKey", value: column })) : [],
    });
    groups.push(resolved);
    const read = new Set<string>();
    for (const column of node.selected) {
      filled.set(node.prefix + column.name, { node: index, column: column.name });
      read.add(column.name);
    }
    filterColumns(q.filter, read);
    node.joins.forEach((join, i) => {
      const child = q.joins[i]!;
      join.keys.leftOn.forEach((c) => read.add(c));
      const childIndex = groups.length;
      visit(child.query!, join.query, index, child.type === JoinType.INNER ? JoinType.INNER : JoinType.LEFT, join.keys.leftOn, join.keys.rightOn);
      groups[childIndex]!.keySources = join.keys.rightOn.map((column, part) => joinKeySource(node, column, join.keys.leftOn[part]!));
    });
    // Group column order, so every reader projects the same way.
    resolved.readColumns = group.columns.map((c) => c.name).filter((c) => read.has(c));
  };
  visit(query, tree, -1, JoinType.UNSPECIFIED, [], []);

  const columns = outputColumns.map((output) => {
    const source = filled.get(output.name);
    if (!source) return create(ResolvedColumnSchema, { group: -1, sourceColumn: "" });
    const part = groups[source.node]!.keySources.findIndex((k) => k.column === source.column);
    const keyPart = part >= 0 ? part : undefined;
    return create(ResolvedColumnSchema, { group: source.node, sourceColumn: source.column, keyPart });
  });
  return create(ResolvedViewSchema, { groups, columns });
}

/**
 * Where a joined group's key part comes from online: the parent's own key part when the join reads
 * it, else the parent's fetched row (a foreign key, which the caller may still pass as a serving
 * key), or the caller alone when the parent is not stored online.
 */
function joinKeySource(parent: ResolvedQuery, column: string, leftColumn: string): KeySource {
  const online = parent.group.group.onlineEnabled;
  const servingName = parent.prefix + leftColumn;
  const part = parent.group.group.primaryKey.indexOf(leftColumn);
  if (online && part >= 0) return keySource(column, { case: "parentKeyPart", value: part });
  if (online) return keySource(column, { case: "parentColumn", value: leftColumn }, servingName);
  return keySource(column, { case: "servingKey", value: servingName });
}

function keySource(column: string, source: KeySource["source"], servingKeyOverride = ""): KeySource {
  return create(KeySourceSchema, { column, source, servingKeyOverride });
}

function filterColumns(filter: Filter | undefined, out: Set<string>): void {
  if (!filter) return;
  const kind = filter.kind;
  if (kind.case === "condition") out.add(kind.value.column);
  else if (kind.case === "and" || kind.case === "or") kind.value.filters.forEach((f) => filterColumns(f, out));
}
