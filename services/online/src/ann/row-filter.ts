import { InvalidArgumentError } from "@granary/errors";
import { FilterOperator, type Condition, type FeatureGroup, type Filter } from "@granary/proto/metadata";
import { ScalarType, type DataType, type Value } from "@granary/proto/types";
import { cellOf, decodeCell, decodeRowInto, encodeRowDefaults, type CellSink, type CellValue, type RowDefaults } from "../store/row-codec.js";

type Test = (cells: readonly CellValue[]) => boolean;

/**
 * A FindNeighbors filter compiled against the indexed group's columns: a test of a stored row.
 * Columns, operators and value types are checked first (INVALID_ARGUMENT naming the field), as the
 * offline reads check theirs; null never compares (SQL's rule), only IS_NULL finds it.
 */
export function compileRowFilter(filter: Filter, group: FeatureGroup, field = "filter"): (raw: Buffer) => boolean {
  const types = group.columns.map((c) => c.type!);
  const positions = new Map(group.columns.map((c, i) => [c.name, i]));
  const used = new Set<number>();
  const test = compile(filter, field);
  const cells: CellValue[] = new Array<CellValue>(types.length).fill(null);
  const sinks: (CellSink | undefined)[] = types.map((type, i) =>
    used.has(i)
      ? {
          value: (_row, buf, offset) => void (cells[i] = decodeCell(type, buf, offset)),
          missing: () => void (cells[i] = null),
        }
      : undefined,
  );
  const defaults: RowDefaults | undefined = encodeRowDefaults(
    types,
    group.columns.map((c) => (c.defaultValue ? cellOf(c.defaultValue) : null)),
  );
  return (raw) => {
    decodeRowInto(raw, types, sinks, 0, defaults);
    return test(cells);
  };

  function compile(f: Filter, at: string): Test {
    const kind = f.kind;
    switch (kind.case) {
      case "condition":
        return condition(kind.value, `${at}.condition`);
      case "and":
      case "or": {
        if (kind.value.filters.length === 0) throw new InvalidArgumentError(`${at}.${kind.case}: needs at least one filter`, { field: `${at}.${kind.case}` });
        const tests = kind.value.filters.map((sub, i) => compile(sub, `${at}.${kind.case}.filters[${i}]`));
        return kind.case === "and" ? (c) => tests.every((t) => t(c)) : (c) => tests.some((t) => t(c));
      }
      default:
        throw new InvalidArgumentError(`${at}: a filter needs one of condition, and, or`, { field: at });
    }
  }

  function condition(c: Condition, at: string): Test {
    const position = positions.get(c.column);
    if (position === undefined) {
      throw new InvalidArgumentError(`${at}.column: "${c.column}" is not a column of feature group "${group.name}" version ${group.version}`, {
        field: `${at}.column`,
      });
    }
    used.add(position);
    const type = types[position]!;
    const op = c.operator;
    if (op === FilterOperator.IS_NULL) return (cells) => cells[position] === null;
    if (op === FilterOperator.IS_NOT_NULL) return (cells) => cells[position] !== null;
    if (type.list || type.scalar === ScalarType.BYTES) {
      throw new InvalidArgumentError(`${at}.operator: column "${c.column}" can only be tested with IS_NULL or IS_NOT_NULL`, { field: `${at}.operator` });
    }
    if (op === FilterOperator.IN) {
      if (c.values.length === 0) throw new InvalidArgumentError(`${at}.values: IN needs at least one value`, { field: `${at}.values` });
      const values = c.values.map((v, i) => scalarOf(v, type, c.column, `${at}.values[${i}]`));
      return (cells) => cells[position] !== null && values.some((v) => v === cells[position]);
    }
    const compare = COMPARISONS[op];
    if (!compare) throw new InvalidArgumentError(`${at}.operator: a condition needs an operator`, { field: `${at}.operator` });
    if (!c.value) throw new InvalidArgumentError(`${at}.value: ${FilterOperator[op]} needs a value`, { field: `${at}.value` });
    if (type.scalar === ScalarType.BOOL && op !== FilterOperator.EQ && op !== FilterOperator.NE) {
      throw new InvalidArgumentError(`${at}.operator: ${FilterOperator[op]} does not apply to bool column "${c.column}"`, { field: `${at}.operator` });
    }
    const value = scalarOf(c.value, type, c.column, `${at}.value`);
    return (cells) => {
      const cell = cells[position];
      return cell !== null && cell !== undefined && compare(cell as Comparable, value);
    };
  }
}

type Comparable = number | bigint | string | boolean;

const COMPARISONS: Partial<Record<FilterOperator, (a: Comparable, b: Comparable) => boolean>> = {
  [FilterOperator.EQ]: (a, b) => a === b,
  [FilterOperator.NE]: (a, b) => a !== b,
  [FilterOperator.LT]: (a, b) => a < b,
  [FilterOperator.LE]: (a, b) => a <= b,
  [FilterOperator.GT]: (a, b) => a > b,
  [FilterOperator.GE]: (a, b) => a >= b,
};

/** A filter value as the column's cells decode (int64 and timestamps as bigint, floats rounded to f32). */
function scalarOf(value: Value, type: DataType, column: string, field: string): Comparable {
  const kind = value.kind;
  const refuse = () =>
    new InvalidArgumentError(`${field}: ${kind.case ?? "null"} does not fit column "${column}" of type ${ScalarType[type.scalar].toLowerCase()}`, { field });
  switch (type.scalar) {
    case ScalarType.BOOL:
      if (kind.case === "boolValue") return kind.value;
      throw refuse();
    case ScalarType.INT32:
      if (kind.case === "int32Value") return kind.value;
      if (kind.case === "int64Value") return Number(kind.value);
      throw refuse();
    case ScalarType.INT64:
      if (kind.case === "int64Value") return kind.value;
      if (kind.case === "int32Value") return BigInt(kind.value);
      throw refuse();
    case ScalarType.FLOAT:
      if (kind.case === "floatValue" || kind.case === "doubleValue") return Math.fround(kind.value);
      throw refuse();
    case ScalarType.DOUBLE:
      if (kind.case === "floatValue" || kind.case === "doubleValue") return kind.value;
      throw refuse();
    case ScalarType.STRING:
      if (kind.case === "stringValue") return kind.value;
      throw refuse();
    case ScalarType.TIMESTAMP:
      if (kind.case === "timestampValue") return cellOf(value) as bigint;
      throw refuse();
    case ScalarType.DATE:
      if (kind.case === "dateValue") return kind.value;
      throw refuse();
    default:
      throw refuse();
  }
}
