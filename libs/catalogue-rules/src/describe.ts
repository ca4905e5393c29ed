import { ScalarType, type DataType, type FeatureGroupRef } from "@granary/proto/types";
import { quote } from "./field-error.js";

/** `feature group "merchants" version 2`, as messages name a group. */
export function describeGroup(ref: FeatureGroupRef): string {
  return `feature group ${quote(ref.name)} version ${ref.version}`;
}

/** `double`, `list of float`: a type as messages name it. */
export function describeType(type: DataType | undefined): string {
  if (!type) return "unset";
  const scalar = describeScalar(type.scalar);
  return type.list ? `list of ${scalar}` : scalar;
}

export function describeScalar(scalar: ScalarType): string {
  return (ScalarType[scalar] ?? `${scalar}`).toLowerCase();
}

/** Same scalar and list flag; a list's fixed dimension is not part of type identity for joins. */
export function sameType(a: DataType | undefined, b: DataType | undefined): boolean {
  return a !== undefined && b !== undefined && a.scalar === b.scalar && a.list === b.list;
}
