import { InvalidArgumentError } from "@granary/errors";
import { FilterOperator, type Filter } from "@granary/proto/metadata";
import type { DataType } from "@granary/proto/types";
import { valueLiteral } from "./sql-text.js";

/** A column a filter may name: the SQL that reads it and its type. */
export interface FilterColumn {
  readonly expr: string;
  readonly type: DataType;
}

const COMPARE: Partial<Record<FilterOperator, string>> = {
  [FilterOperator.EQ]: "=",
  [FilterOperator.NE]: "<>",
  [FilterOperator.LT]: "<",
  [FilterOperator.LE]: "<=",
  [FilterOperator.GT]: ">",
  [FilterOperator.GE]: ">=",
};

/**
 * A filter tree as a SQL boolean expression. Columns are looked up with `resolve`; a comparison
 * with a null (missing) value is not true, so such rows are filtered out, as in SQL.
 */
export function filterSql(filter: Filter, resolve: (column: string) => FilterColumn | undefined, field: string): string {
  const kind = filter.kind;
  switch (kind.case) {
    case "and":
    case "or": {
      if (kind.value.filters.length === 0) throw new InvalidArgumentError(`${field}.${kind.case} needs at least one filter`, { field });
      const parts = kind.value.filters.map((f, i) => filterSql(f, resolve, `${field}.${kind.case}.filters[${i}]`));
      return `(${parts.join(kind.case === "and" ? " AND " : " OR ")})`;
    }
    case "condition": {
      const c = kind.value;
      const at = `${field}.condition`;
      const column = resolve(c.column);
      if (!column) throw new InvalidArgumentError(`${at}.column: "${c.column}" is not a column here`, { field: `${at}.column` });
      const compare = COMPARE[c.operator];
      if (compare) return `(${column.expr} ${compare} ${valueLiteral(c.value, column.type, `${at}.value`)})`;
      switch (c.operator) {
        case FilterOperator.IN:
          if (c.values.length === 0) throw new InvalidArgumentError(`${at}.values: IN needs at least one value`, { field: `${at}.values` });
          return `(${column.expr} IN (${c.values.map((v, i) => valueLiteral(v, column.type, `${at}.values[${i}]`)).join(", ")}))`;
        case FilterOperator.IS_NULL:
          return `(${column.expr} IS NULL)`;
        case FilterOperator.IS_NOT_NULL:
          return `(${column.expr} IS NOT NULL)`;
        default:
          throw new InvalidArgumentError(`${at}.operator: a condition needs an operator`, { field: `${at}.operator` });
      }
    }
    default:
      throw new InvalidArgumentError(`${field}: a filter needs one of condition, and, or`, { field });
  }
}
