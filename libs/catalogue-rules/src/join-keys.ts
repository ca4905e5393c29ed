import type { Join } from "@granary/proto/metadata";
import { describeGroup, describeType, sameType } from "./describe.js";
import { fieldError, quote } from "./field-error.js";
import { columnType, type GroupColumns } from "./group-columns.js";

/** A join's key pairs, ordered as the right group's primary key. */
export interface JoinKeys {
  readonly leftOn: readonly string[];
  readonly rightOn: readonly string[];
}

interface KeyPair {
  readonly left: string;
  readonly right: string;
  readonly leftField: string;
}

/**
 * Resolves a join's keys from `on`, `left_on`/`right_on`, or, when all are empty, the right group's
 * primary key. A point-in-time lookup fetches one row per right key, so the right side of the keys
 * must be exactly the right group's primary key.
 */
export function resolveJoinKeys(join: Join, left: GroupColumns, right: GroupColumns, field: string): JoinKeys {
  const primaryKey = right.group.primaryKey;
  if (primaryKey.length === 0) throw fieldError(field, `${describeGroup(right.ref)} has no primary key to join on`);
  const { pairs, rightField } = keyPairs(join, left, right, field);

  for (const pair of pairs) {
    if (!left.columns.has(pair.left)) {
      throw fieldError(pair.leftField, `${quote(pair.left)} is not a column of ${describeGroup(left.ref)}`);
    }
  }
  const rights = pairs.map((p) => p.right);
  const isPrimaryKey = rights.length === primaryKey.length && new Set(rights).size === rights.length && rights.every((r) => right.primaryKey.has(r));
  if (!isPrimaryKey) {
    throw fieldError(rightField, `join keys must be ${describeGroup(right.ref)}'s primary key (${primaryKey.join(", ")})`);
  }
  for (const pair of pairs) {
    const leftType = columnType(left.columns.get(pair.left)!);
    const rightType = columnType(right.columns.get(pair.right)!);
    if (!sameType(leftType, rightType)) {
      throw fieldError(
        pair.leftField,
        `key ${quote(pair.left)} of ${describeGroup(left.ref)} is ${describeType(leftType)} but ` +
          `${quote(pair.right)} of ${describeGroup(right.ref)} is ${describeType(rightType)}`,
      );
    }
  }
  const ordered = primaryKey.map((name) => pairs.find((p) => p.right === name)!);
  return { leftOn: ordered.map((p) => p.left), rightOn: ordered.map((p) => p.right) };
}

function keyPairs(join: Join, left: GroupColumns, right: GroupColumns, field: string): { pairs: KeyPair[]; rightField: string } {
  const { on, leftOn, rightOn } = join;
  if (on.length > 0) {
    if (leftOn.length > 0 || rightOn.length > 0) {
      throw fieldError(`${field}.on`, "give either on or left_on/right_on, not both");
    }
    return { pairs: on.map((name, i) => ({ left: name, right: name, leftField: `${field}.on[${i}]` })), rightField: `${field}.on` };
  }
  if (leftOn.length > 0 || rightOn.length > 0) {
    if (leftOn.length !== rightOn.length) {
      throw fieldError(`${field}.right_on`, `left_on has ${leftOn.length} columns and right_on ${rightOn.length}; they pair up one to one`);
    }
    return {
      pairs: leftOn.map((name, i) => ({ left: name, right: rightOn[i]!, leftField: `${field}.left_on[${i}]` })),
      rightField: `${field}.right_on`,
    };
  }
  const pairs = right.group.primaryKey.map((name) => {
    if (!left.columns.has(name)) {
      throw fieldError(
        field,
        `cannot infer join keys: ${describeGroup(left.ref)} has no column ${quote(name)} of ` +
          `${describeGroup(right.ref)}'s primary key; give on or left_on/right_on`,
      );
    }
    return { left: name, right: name, leftField: field };
  });
  return { pairs, rightField: field };
}
