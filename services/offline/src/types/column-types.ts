export { arrowTypeOf, duckTypeSql } from "@granary/arrow";
import * as arrow from "apache-arrow";
import { ScalarType, type DataType } from "@granary/proto/types";

/** Human words for a type, as in error messages. */
export function describeDataType(type: DataType): string {
  const name = ScalarType[type.scalar]?.toLowerCase() ?? "unknown";
  return type.list ? `list of ${name}` : name;
}

/**
 * Whether an Arrow input column can be stored in a Granary column: the same type, or one that
 * widens without loss (int8/16/32 → int64, float32 → double, any timestamp unit, large and view
 * strings, date64 → date).
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
