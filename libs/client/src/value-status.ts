// A value's status by name, shared by vectors (feature-view.ts) and consistency examples
// (consistency-check.ts), which the feature view calls: one mapping, imported by both.
import { ValueStatus } from "@granary/proto/types";

/** Why a value of a vector is what it is. */
export type ValueStatusName = "PRESENT" | "NULL" | "NOT_FOUND" | "EXPIRED";

const NAMES: Record<number, ValueStatusName> = {
  [ValueStatus.PRESENT]: "PRESENT",
  [ValueStatus.NULL]: "NULL",
  [ValueStatus.NOT_FOUND]: "NOT_FOUND",
  [ValueStatus.EXPIRED]: "EXPIRED",
};

/** The name of a wire status; one this SDK does not know reads as NOT_FOUND. */
export function statusName(status: ValueStatus): ValueStatusName {
  return NAMES[status] ?? "NOT_FOUND";
}
