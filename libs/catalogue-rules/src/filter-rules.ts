import { FilterOperator, type Condition, type Filter } from "@granary/proto/metadata";
import { ScalarType, type Column, type DataType, type Value } from "@granary/proto/types";
import { describeGroup, describeType } from "./describe.js";
import { valueFitsType } from "./feature-group-rules.js";
import { fieldError, quote } from "./field-error.js";
import { columnType, type GroupColumns } from "./group-columns.js";

const ORDERING = new Set([FilterOperator.LT, FilterOperator.LE, FilterOperator.GT, FilterOperator.GE]);
const SINGLE_VALUE = new Set([FilterOperator.EQ, FilterOperator.NE, ...ORDERING]);

/** Checks a query's filter tree against the columns of the query's group (selected or not). */
export function checkFilter(filter: Filter, group: GroupColumns, field: string): void {
  const kind = filter.kind;
  switch (kind.case) {
    case "condition":
      checkCondition(kind.value, group, `${field}.condition`);
      return;
    case "and":
    case "or":
      if (kind.value.filters.length === 0) {
        throw fieldError(`${field}.${kind.case}`, `${kind.case} needs at least one filter`);
      }
      kind.value.filters.forEach((sub, i) => checkFilter(sub, group, `${field}.${kind.case}.filters[${i}]`));
      return;
    case undefined:
      throw fieldError(field, "a filter needs one of condition, and, or");
  }
}

function checkCondition(condition: Condition, group: GroupColumns, field: string): void {
  if (condition.column === "") throw fieldError(`${field}.column`, "a condition needs a column");
  const column = group.columns.get(condition.column);
  if (!column) {
    throw fieldError(`${field}.column`, `${quote(condition.column)} is not a column of ${describeGroup(group.ref)}`);
  }
  const op = condition.operator;
  const opName = FilterOperator[op] ?? `${op}`;
  const hasValue = condition.value !== undefined;
  const hasValues = condition.values.length > 0;

  if (op === FilterOperator.UNSPECIFIED || FilterOperator[op] === undefined) {
    throw fieldError(`${field}.operator`, "a condition needs an operator");
  }
  if (SINGLE_VALUE.has(op)) {
    const type = columnType(column);
    if (ORDERING.has(op) && !isOrdered(type)) {
      throw fieldError(`${field}.operator`, `${opName} does not apply to ${quote(column.name)} of type ${describeType(type)}`);
    }
    if (hasValues) throw fieldError(`${field}.values`, `${opName} takes value, not values`);
    if (!condition.value) throw fieldError(`${field}.value`, `${opName} needs a value`);
    checkValue(condition.value, column, `${field}.value`);
    return;
  }
  if (op === FilterOperator.IN) {
    if (hasValue) throw fieldError(`${field}.value`, "IN takes values, not value");
    if (!hasValues) throw fieldError(`${field}.values`, "IN needs at least one value in values");
    condition.values.forEach((value, i) => checkValue(value, column, `${field}.values[${i}]`));
    return;
  }
  // IS_NULL, IS_NOT_NULL
  if (hasValue || hasValues) throw fieldError(`${field}.${hasValue ? "value" : "values"}`, `${opName} takes no value`);
}

function checkValue(value: Value, column: Column, field: string): void {
  const type = columnType(column);
  if (value.kind.case === undefined) {
    throw fieldError(field, `the value is null; compare with null using IS_NULL or IS_NOT_NULL`);
  }
  if (!valueFitsType(value, type)) {
    throw fieldError(field, `${snakeCase(value.kind.case)} does not fit ${quote(column.name)} of type ${describeType(type)}`);
  }
}

function isOrdered(type: DataType): boolean {
  return !type.list && type.scalar !== ScalarType.BOOL && type.scalar !== ScalarType.BYTES;
}

function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
