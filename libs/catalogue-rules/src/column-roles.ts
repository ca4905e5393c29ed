import { ColumnRole, type FeatureView, type OutputColumn } from "@granary/proto/metadata";
import { fieldError, quote } from "./field-error.js";

const ROLE_LISTS = [
  { list: "labels", role: ColumnRole.LABEL, what: "a label" },
  { list: "inference_helper_columns", role: ColumnRole.INFERENCE_HELPER, what: "an inference helper column" },
  { list: "training_helper_columns", role: ColumnRole.TRAINING_HELPER, what: "a training helper column" },
] as const;

type RoleList = (typeof ROLE_LISTS)[number]["list"];

function namesIn(view: FeatureView, list: RoleList): readonly string[] {
  switch (list) {
    case "labels":
      return view.labels;
    case "inference_helper_columns":
      return view.inferenceHelperColumns;
    case "training_helper_columns":
      return view.trainingHelperColumns;
  }
}

/**
 * Marks the query's output columns named in labels and the helper lists with their role. Names are
 * the output names (after prefixes); a column has at most one of these roles.
 */
export function assignColumnRoles(view: FeatureView, columns: readonly OutputColumn[], field: string): void {
  const byName = new Map(columns.map((c) => [c.name, c]));
  const onDemand = new Set(view.onDemandFeatures.map((f) => f.name));
  const roleWhat = new Map<ColumnRole, string>(ROLE_LISTS.map((r) => [r.role, r.what]));
  for (const { list, role, what } of ROLE_LISTS) {
    const seen = new Set<string>();
    namesIn(view, list).forEach((name, i) => {
      const at = `${field}.${list}[${i}]`;
      const column = byName.get(name);
      if (!column) {
        throw fieldError(
          at,
          onDemand.has(name) ? `${quote(name)} is an on-demand feature and cannot be ${what}` : `${quote(name)} is not a column of the view`,
        );
      }
      if (seen.has(name)) throw fieldError(at, `${quote(name)} is listed twice`);
      seen.add(name);
      if (column.role !== ColumnRole.FEATURE) {
        throw fieldError(at, `${quote(name)} is already ${roleWhat.get(column.role) ?? "assigned a role"}; a column has one role`);
      }
      column.role = role;
    });
  }
}
