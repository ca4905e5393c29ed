import * as arrow from "apache-arrow";
import { InvalidArgumentError } from "@granary/errors";
import { ScalarType, type Column, type DataType } from "@granary/proto/types";

/** Human words for a type, as in error messages. */
export function describeDataType(type: DataType): string {
  const name = ScalarType[type.scalar]?.toLowerCase() ?? "unknown";
  return type.list ? `list of ${name}` : name;
}

/**
 * Whether an Arrow input column can be stored in a Granary column: the same type, or one that
 * widens without loss (int8/16/32 → int64, float32 → double, any timestamp unit, large and view
 * strings, date64 → date). Nothing is parsed or narrowed: Utf8 never becomes a number or a bool.
 */
export function arrowFits(input: arrow.DataType, target: DataType): boolean {
  if (target.list) {
    if (!(arrow.DataType.isList(input) || input instanceof arrow.LargeList || arrow.DataType.isFixedSizeList(input))) return false;
    const child = (input as arrow.List | arrow.FixedSizeList).children[0]?.type;
    return child !== undefined && scalarFits(child, target.scalar);
  }
  return scalarFits(input, target.scalar);
}

function scalarFits(input: arrow.DataType, scalar: ScalarType): boolean {
  switch (scalar) {
    case ScalarType.BOOL:
      return arrow.DataType.isBool(input);
    case ScalarType.INT32:
      return arrow.DataType.isInt(input) && input.isSigned && input.bitWidth <= 32;
    case ScalarType.INT64:
      return arrow.DataType.isInt(input) && (input.isSigned ? input.bitWidth <= 64 : input.bitWidth <= 32);
    case ScalarType.FLOAT:
      return arrow.DataType.isFloat(input) && input.precision !== arrow.Precision.DOUBLE;
    case ScalarType.DOUBLE:
      return arrow.DataType.isFloat(input);
    case ScalarType.STRING:
      return arrow.DataType.isUtf8(input) || arrow.DataType.isLargeUtf8(input) || input instanceof arrow.Utf8View;
    case ScalarType.BYTES:
      return arrow.DataType.isBinary(input) || arrow.DataType.isLargeBinary(input) || input instanceof arrow.BinaryView;
    case ScalarType.TIMESTAMP:
      return arrow.DataType.isTimestamp(input);
    case ScalarType.DATE:
      return arrow.DataType.isDate(input);
    default:
      return false;
  }
}

export interface ArrowSchemaRules {
  /** The columns the input may carry, by name. */
  readonly allowed: ReadonlyMap<string, Column>;
  /** Columns the input must carry. */
  readonly required: readonly string[];
  /** What the input is, for messages: "the insert", "the spine". */
  readonly what: string;
}

/** An input field matched to the group column it fills. */
export interface CheckedField {
  readonly name: string;
  /** Index of the field in the Arrow schema. */
  readonly field: number;
  readonly input: arrow.DataType;
  readonly column: Column;
}

/**
 * The one schema check of Arrow input, for every write path (offline Insert, online WriteRows):
 * unknown, repeated or mistyped columns (see arrowFits) and missing required ones fail with
 * INVALID_ARGUMENT listing every problem, each naming the column with the expected and received
 * types, before a row is read.
 */
export function checkArrowSchema(schema: arrow.Schema, rules: ArrowSchemaRules): CheckedField[] {
  const seen = new Set<string>();
  const problems: string[] = [];
  const fields: CheckedField[] = [];
  schema.fields.forEach((field, i) => {
    const column = rules.allowed.get(field.name);
    if (!column) {
      problems.push(`column "${field.name}" is not one ${rules.what} may carry (expected ${[...rules.allowed.keys()].join(", ")})`);
      return;
    }
    if (seen.has(field.name)) {
      problems.push(`column "${field.name}" appears twice`);
      return;
    }
    seen.add(field.name);
    if (!arrowFits(field.type, column.type!)) {
      problems.push(`column "${field.name}" is ${String(field.type)} but must be ${describeDataType(column.type!)}`);
      return;
    }
    fields.push({ name: field.name, field: i, input: field.type, column });
  });
  const missing = rules.required.filter((name) => !seen.has(name));
  if (missing.length > 0)
    problems.push(`${missing.map((m) => `"${m}"`).join(", ")} ${missing.length === 1 ? "is" : "are"} missing (required: ${rules.required.join(", ")})`);
  if (problems.length > 0) throw new InvalidArgumentError(`${rules.what}: ${problems.join("; ")}`);
  return fields;
}
