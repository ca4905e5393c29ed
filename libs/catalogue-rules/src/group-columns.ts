import { create } from "@bufbuild/protobuf";
import type { FeatureGroup } from "@granary/proto/metadata";
import { DataTypeSchema, type Column, type DataType, type FeatureGroupRef } from "@granary/proto/types";

/** A feature group with its columns indexed by name, as the view rules look it up. */
export interface GroupColumns {
  readonly ref: FeatureGroupRef;
  readonly group: FeatureGroup;
  readonly columns: ReadonlyMap<string, Column>;
  readonly primaryKey: ReadonlySet<string>;
}

export function indexGroup(ref: FeatureGroupRef, group: FeatureGroup): GroupColumns {
  return {
    ref,
    group,
    columns: new Map(group.columns.map((c) => [c.name, c])),
    primaryKey: new Set(group.primaryKey),
  };
}

const UNTYPED = create(DataTypeSchema);

/** A column's type; stored groups always have one, and an unset type matches nothing useful. */
export function columnType(column: Column): DataType {
  return column.type ?? UNTYPED;
}
