import { clone, create } from "@bufbuild/protobuf";
import { FilterOperator, FilterSchema, JoinType, QuerySchema, SelectionMode, type Filter, type Query as QueryMessage } from "@granary/proto/metadata";
import type { Column, DataType } from "@granary/proto/types";
import { toValue, type FeatureValue } from "./values.js";

/** The type of a column by name, for typing filter literals (an integer compared with a double column is sent as a double). */
export type ColumnTypes = (column: string) => DataType | undefined;

/** A filter: `feature("amount").gt(100).and(feature("category").in(["a", "b"]))`. Literals are typed by the columns it is applied to. */
export class FilterExpr {
  readonly #build: (types: ColumnTypes) => Filter;

  constructor(build: (types: ColumnTypes) => Filter) {
    this.#build = build;
  }

  /** The filter message, literals typed by `types` (by the JavaScript value where a column is unknown). */
  toMessage(types: ColumnTypes = () => undefined): Filter {
    return this.#build(types);
  }

  and(...others: FilterExpr[]): FilterExpr {
    return new FilterExpr((t) => create(FilterSchema, { kind: { case: "and", value: { filters: [this, ...others].map((f) => f.toMessage(t)) } } }));
  }

  or(...others: FilterExpr[]): FilterExpr {
    return new FilterExpr((t) => create(FilterSchema, { kind: { case: "or", value: { filters: [this, ...others].map((f) => f.toMessage(t)) } } }));
  }
}

/** Column types of a group's columns. */
export function typesOf(columns: readonly Column[]): ColumnTypes {
  const map = new Map(columns.map((c) => [c.name, c.type]));
  return (name) => map.get(name);
}

/** A column to compare in a filter. */
export class FeatureRef {
  readonly name: string;

  constructor(name: string) {
    this.name = name;
  }

  eq(value: FeatureValue): FilterExpr {
    return this.#condition(FilterOperator.EQ, value);
  }
  ne(value: FeatureValue): FilterExpr {
    return this.#condition(FilterOperator.NE, value);
  }
  lt(value: FeatureValue): FilterExpr {
    return this.#condition(FilterOperator.LT, value);
  }
  le(value: FeatureValue): FilterExpr {
    return this.#condition(FilterOperator.LE, value);
  }
  gt(value: FeatureValue): FilterExpr {
    return this.#condition(FilterOperator.GT, value);
  }
  ge(value: FeatureValue): FilterExpr {
    return this.#condition(FilterOperator.GE, value);
  }
  in(values: readonly FeatureValue[]): FilterExpr {
    const column = this.name;
    return new FilterExpr((t) =>
      create(FilterSchema, { kind: { case: "condition", value: { column, operator: FilterOperator.IN, values: values.map((v) => toValue(v, t(column))) } } }),
    );
  }
  isNull(): FilterExpr {
    const column = this.name;
    return new FilterExpr(() => create(FilterSchema, { kind: { case: "condition", value: { column, operator: FilterOperator.IS_NULL } } }));
  }
  isNotNull(): FilterExpr {
    const column = this.name;
    return new FilterExpr(() => create(FilterSchema, { kind: { case: "condition", value: { column, operator: FilterOperator.IS_NOT_NULL } } }));
  }

  #condition(operator: FilterOperator, value: FeatureValue): FilterExpr {
    const column = this.name;
    return new FilterExpr((t) => create(FilterSchema, { kind: { case: "condition", value: { column, operator, value: toValue(value, t(column)) } } }));
  }
}

/** A column of a filter, as Hopsworks' `Feature("amount")`. */
export function feature(name: string): FeatureRef {
  return new FeatureRef(name);
}

export interface JoinOptions {
  /** Columns with the same name on both sides. */
  readonly on?: readonly string[];
  readonly leftOn?: readonly string[];
  readonly rightOn?: readonly string[];
  /** Prefix for the right side's columns whose names clash. */
  readonly prefix?: string;
  /** "left" (default) keeps every left row; "inner" drops rows without a match. */
  readonly type?: "left" | "inner";
}

/**
 * A feature-view query: a left feature group's selected columns, joins to other queries (nested for
 * snowflake schemas), and a filter. Immutable: every method returns a new query.
 */
export class Query {
  readonly message: QueryMessage;
  /** Column types of every group in the query (the left group's first), for typing filter literals. */
  readonly columnTypes: ColumnTypes;

  constructor(message: QueryMessage, columnTypes: ColumnTypes = () => undefined) {
    this.message = message;
    this.columnTypes = columnTypes;
  }

  static of(group: { name: string; version: number; columns: readonly Column[] }, mode: SelectionMode, columns: readonly string[] = []): Query {
    return new Query(
      create(QuerySchema, { featureGroup: { name: group.name, version: group.version }, selection: { mode, columns: [...columns] } }),
      typesOf(group.columns),
    );
  }

  /** Joins another query; keys inferred from the right group's primary key when none are given. */
  join(right: Query, options: JoinOptions = {}): Query {
    const next = clone(QuerySchema, this.message);
    next.joins = [
      ...this.message.joins,
      {
        $typeName: "granary.metadata.v1.Join",
        query: right.message,
        on: [...(options.on ?? [])],
        leftOn: [...(options.leftOn ?? [])],
        rightOn: [...(options.rightOn ?? [])],
        prefix: options.prefix ?? "",
        type: options.type === "inner" ? JoinType.INNER : JoinType.LEFT,
      },
    ];
    return new Query(next, (c) => this.columnTypes(c) ?? right.columnTypes(c));
  }

  /** Keeps rows matching the filter (AND-ed with any filter already set). */
  filter(expr: FilterExpr): Query {
    const next = clone(QuerySchema, this.message);
    const added = expr.toMessage(this.columnTypes);
    next.filter = this.message.filter?.kind.case ? create(FilterSchema, { kind: { case: "and", value: { filters: [this.message.filter, added] } } }) : added;
    return new Query(next, this.columnTypes);
  }
}

export { SelectionMode };
