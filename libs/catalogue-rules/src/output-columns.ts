import { clone, create } from "@bufbuild/protobuf";
import { ColumnRole, OutputColumnSchema, type OutputColumn } from "@granary/proto/metadata";
import { DataTypeSchema, FeatureGroupRefSchema } from "@granary/proto/types";
import { describeGroup } from "./describe.js";
import { fieldError, quote } from "./field-error.js";
import { columnType } from "./group-columns.js";
import { checkIdentifier } from "./names.js";
import type { ResolvedQuery } from "./query-tree.js";

/**
 * The query's output columns in their fixed order: the root's selection, then each join's subtree
 * depth first. Names carry their subtree's prefix and must be unique. Every column starts as a
 * FEATURE; labels and helpers are assigned afterwards.
 */
export function queryOutputColumns(root: ResolvedQuery): OutputColumn[] {
  const output: OutputColumn[] = [];
  const byName = new Map<string, OutputColumn>();
  const visit = (query: ResolvedQuery): void => {
    const fixAt = query.joinField === undefined ? `${query.field}.selection` : `${query.joinField}.prefix`;
    for (const column of query.selected) {
      const name = query.prefix + column.name;
      if (query.prefix !== "") checkIdentifier(name, fixAt, "prefixed column name");
      const earlier = byName.get(name);
      if (earlier) {
        throw fieldError(
          fixAt,
          `column ${quote(name)} of ${describeGroup(query.group.ref)} clashes with ${quote(name)} of ` +
            `${describeGroup(earlier.featureGroup!)}; give the join a prefix`,
        );
      }
      const out = create(OutputColumnSchema, {
        name,
        type: clone(DataTypeSchema, columnType(column)),
        featureGroup: clone(FeatureGroupRefSchema, query.group.ref),
        sourceColumn: column.name,
        role: ColumnRole.FEATURE,
      });
      byName.set(name, out);
      output.push(out);
    }
    query.joins.forEach((join) => visit(join.query));
  };
  visit(root);
  return output;
}
