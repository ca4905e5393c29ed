import { clone, create } from "@bufbuild/protobuf";
import { ServingKeySchema, type ServingKey } from "@granary/proto/metadata";
import { DataTypeSchema, FeatureGroupRefSchema, type DataType } from "@granary/proto/types";
import { describeType, sameType } from "./describe.js";
import { fieldError, quote } from "./field-error.js";
import { columnType, type GroupColumns } from "./group-columns.js";
import { checkIdentifier } from "./names.js";
import type { ResolvedQuery } from "./query-tree.js";

/**
 * The keys a caller provides for an online lookup. An online root is fetched by its primary key.
 * A join's keys are then read from the left group's fetched row when that group is online (the
 * caller may still pass them: required false), are implied when they are the left group's own
 * primary key, and must come from the caller when the left group is offline only.
 */
export function deriveServingKeys(root: ResolvedQuery): ServingKey[] {
  const keys = new Map<string, ServingKey>();
  const add = (key: ServingKey, field: string): void => {
    const earlier = keys.get(key.name);
    if (!earlier) {
      keys.set(key.name, key);
      return;
    }
    if (!sameType(earlier.type, key.type)) {
      throw fieldError(
        field,
        `serving key ${quote(key.name)} is needed as ${describeType(earlier.type)} and as ${describeType(key.type)}; give the join a prefix`,
      );
    }
    earlier.required ||= key.required;
  };

  const rootGroup = root.group;
  if (rootGroup.group.onlineEnabled) {
    for (const name of rootGroup.group.primaryKey) {
      add(servingKey(name, keyType(rootGroup, name), rootGroup, name, true), root.field);
    }
  }
  const visit = (left: ResolvedQuery): void => {
    const online = left.group.group.onlineEnabled;
    for (const join of left.joins) {
      join.keys.leftOn.forEach((leftColumn, i) => {
        if (online && left.group.primaryKey.has(leftColumn)) return;
        const name = left.prefix + leftColumn;
        if (left.prefix !== "") checkIdentifier(name, `${left.joinField}.prefix`, "prefixed serving key name");
        add(servingKey(name, keyType(left.group, leftColumn), join.query.group, join.keys.rightOn[i]!, !online), join.field);
      });
      visit(join.query);
    }
  };
  visit(root);
  return [...keys.values()];
}

function keyType(group: GroupColumns, name: string): DataType {
  const column = group.columns.get(name);
  return column ? columnType(column) : create(DataTypeSchema);
}

function servingKey(name: string, type: DataType, group: GroupColumns, column: string, required: boolean): ServingKey {
  return create(ServingKeySchema, {
    name,
    type: clone(DataTypeSchema, type),
    featureGroup: clone(FeatureGroupRefSchema, group.ref),
    column,
    required,
  });
}
