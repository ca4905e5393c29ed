import { clone } from "@bufbuild/protobuf";
import type { FeatureGroup, Query } from "@granary/proto/metadata";
import { FeatureGroupRefSchema, type Column, type FeatureGroupRef } from "@granary/proto/types";
import { describeGroup } from "./describe.js";
import { fieldError, quote } from "./field-error.js";
import { checkFilter } from "./filter-rules.js";
import { indexGroup, type GroupColumns } from "./group-columns.js";
import { resolveJoinKeys, type JoinKeys } from "./join-keys.js";
import { selectColumns } from "./selection.js";

/** Finds a feature group version the caller has fetched; undefined when it does not exist. */
export type GroupLookup = (ref: FeatureGroupRef) => FeatureGroup | undefined;

/** A query checked against its group: what it contributes to the output, and its joins. */
export interface ResolvedQuery {
  /** Proto path of the query, such as `feature_view.query.joins[0].query`. */
  readonly field: string;
  readonly group: GroupColumns;
  /** Prefix of every output name from this subtree: the enclosing joins' prefixes, outer first. */
  readonly prefix: string;
  /** Path of the innermost join of this subtree, where a prefix would fix a clash; unset at the root. */
  readonly joinField: string | undefined;
  /** Selected columns in output order, without the join-key columns the enclosing join fills in. */
  readonly selected: readonly Column[];
  readonly joins: readonly ResolvedJoin[];
}

export interface ResolvedJoin {
  readonly field: string;
  readonly keys: JoinKeys;
  readonly query: ResolvedQuery;
}

/** Checks a view's query tree: groups exist, selections, filters and join keys are valid. */
export function resolveQueryTree(query: Query, field: string, lookup: GroupLookup): ResolvedQuery {
  return resolveQuery(query, field, lookupGroup(query, field, lookup), "", undefined, new Set(), lookup);
}

function resolveQuery(
  query: Query,
  field: string,
  group: GroupColumns,
  prefix: string,
  joinField: string | undefined,
  filledByJoin: ReadonlySet<string>,
  lookup: GroupLookup,
): ResolvedQuery {
  const selected = selectColumns(group, query.selection, `${field}.selection`).filter((c) => !filledByJoin.has(c.name));
  if (query.filter) checkFilter(query.filter, group, `${field}.filter`);
  const joins = query.joins.map((join, i): ResolvedJoin => {
    const at = `${field}.joins[${i}]`;
    if (!join.query) throw fieldError(`${at}.query`, "a join needs a query");
    const right = lookupGroup(join.query, `${at}.query`, lookup);
    const keys = resolveJoinKeys(join, group, right, at);
    // The right group's keys equal the left keys, so the output keeps only the left ones.
    const child = resolveQuery(join.query, `${at}.query`, right, prefix + join.prefix, at, new Set(keys.rightOn), lookup);
    return { field: at, keys, query: child };
  });
  return { field, group, prefix, joinField, selected, joins };
}

function lookupGroup(query: Query, field: string, lookup: GroupLookup): GroupColumns {
  const at = `${field}.feature_group`;
  const ref = query.featureGroup;
  if (!ref) throw fieldError(at, "a query needs a feature group");
  if (ref.name === "") throw fieldError(`${at}.name`, "a feature group name is required");
  if (ref.version < 1) {
    throw fieldError(`${at}.version`, `a feature view pins group versions: give feature group ${quote(ref.name)} a version of 1 or more`);
  }
  const pinned = clone(FeatureGroupRefSchema, ref);
  const group = lookup(clone(FeatureGroupRefSchema, ref));
  if (!group) throw fieldError(at, `${describeGroup(ref)} does not exist`);
  return indexGroup(pinned, group);
}

/** Every feature group a query mentions, each once, root first then joins depth first. */
export function collectGroupRefs(query: Query): FeatureGroupRef[] {
  const refs = new Map<string, FeatureGroupRef>();
  const visit = (q: Query): void => {
    const ref = q.featureGroup;
    if (ref && !refs.has(`${ref.name}@${ref.version}`)) refs.set(`${ref.name}@${ref.version}`, clone(FeatureGroupRefSchema, ref));
    for (const join of q.joins) if (join.query) visit(join.query);
  };
  visit(query);
  return [...refs.values()];
}
