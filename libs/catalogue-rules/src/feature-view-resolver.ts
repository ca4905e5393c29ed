import type { FeatureView, OutputColumn, ResolvedView, ServingKey } from "@granary/proto/metadata";
import type { FeatureGroupRef } from "@granary/proto/types";
import { attachTransformations } from "./attach-transformations.js";
import { assignColumnRoles } from "./column-roles.js";
import { fieldError } from "./field-error.js";
import { onDemandOutputColumns } from "./on-demand-features.js";
import { queryOutputColumns } from "./output-columns.js";
import { collectGroupRefs, resolveQueryTree, type GroupLookup } from "./query-tree.js";
import { buildResolvedView } from "./resolved-view.js";
import { deriveServingKeys } from "./serving-keys.js";

export { collectGroupRefs, type GroupLookup } from "./query-tree.js";

/** What the service derives from a valid feature view definition. */
export interface ResolvedFeatureView {
  /** The output schema in the order training and serving share. */
  outputColumns: OutputColumn[];
  /** The keys a caller provides online. */
  servingKeys: ServingKey[];
  /** Every group the query reads, each once, root first. */
  sourceGroups: FeatureGroupRef[];
  /** The view as online serving and offline training read it. */
  resolved: ResolvedView;
}

/** Where errors point: the view as CreateFeatureView and UpdateFeatureView carry it. */
const ROOT = "feature_view";

/**
 * Validates a feature view definition against the feature groups its query names and derives its
 * output columns and serving keys. `groups` answers for every ref of collectGroupRefs(view.query);
 * an unknown group is the caller's mistake (INVALID_ARGUMENT), not NOT_FOUND. The view is not
 * modified; the view's own output_columns and serving_keys, if any, are ignored.
 */
export function resolveFeatureView(view: FeatureView, groups: GroupLookup): ResolvedFeatureView {
  if (!view.query) throw fieldError(`${ROOT}.query`, "a feature view needs a query");
  const tree = resolveQueryTree(view.query, `${ROOT}.query`, groups);

  const queryColumns = queryOutputColumns(tree);
  assignColumnRoles(view, queryColumns, ROOT);
  const onDemandColumns = onDemandOutputColumns(view.onDemandFeatures, queryColumns, `${ROOT}.on_demand_features`);
  const outputColumns = [...queryColumns, ...onDemandColumns];
  if (outputColumns.length === 0) throw fieldError(`${ROOT}.query`, "the view selects no columns");
  attachTransformations(view.transformations, outputColumns, `${ROOT}.transformations`);

  return {
    outputColumns,
    servingKeys: deriveServingKeys(tree),
    sourceGroups: collectGroupRefs(view.query),
    resolved: buildResolvedView(view.query, tree, outputColumns),
  };
}
