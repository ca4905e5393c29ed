import * as arrow from "apache-arrow";
import { ScalarType, type DataType } from "@granary/proto/types";

/** The Arrow type Granary returns for a column: timestamps in microseconds, UTC; dates in days. */
export function arrowTypeOf(type: DataType): arrow.DataType {
  const scalar = arrowScalar(type.scalar);
  return type.list ? new arrow.List(new arrow.Field("item", scalar, true)) : scalar;
}

function arrowScalar(scalar: ScalarType): arrow.DataType {
  switch (scalar) {
    case ScalarType.BOOL:
      return new arrow.Bool();
    case ScalarType.INT32:
      return new arrow.Int32();
    case ScalarType.INT64:
      return new arrow.Int64();
    case ScalarType.FLOAT:
      return new arrow.Float32();
    case ScalarType.DOUBLE:
      return new arrow.Float64();
    case ScalarType.BYTES:
      return new arrow.Binary();
    case ScalarType.TIMESTAMP:
      return new arrow.TimestampMicrosecond("UTC");
    case ScalarType.DATE:
      return new arrow.DateDay();
    default:
      return new arrow.Utf8();
  }
}
