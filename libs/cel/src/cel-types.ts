import { CelScalar, listType, objectType, type CelType } from "@bufbuild/cel";
import { TimestampSchema } from "@bufbuild/protobuf/wkt";
import { ScalarType, type DataType } from "@granary/proto/types";

/**
 * The CEL type a Granary column is seen as in expressions: integers are CEL `int`, floats `double`,
 * timestamps `google.protobuf.Timestamp`, dates the `int` number of days since 1970-01-01.
 */
export function celTypeOf(type: DataType): CelType {
  const scalar = celScalarOf(type.scalar);
  return type.list ? listType(scalar) : scalar;
}

function celScalarOf(scalar: ScalarType): CelType {
  switch (scalar) {
    case ScalarType.BOOL:
      return CelScalar.BOOL;
    case ScalarType.INT32:
    case ScalarType.INT64:
    case ScalarType.DATE:
      return CelScalar.INT;
    case ScalarType.FLOAT:
    case ScalarType.DOUBLE:
      return CelScalar.DOUBLE;
    case ScalarType.STRING:
      return CelScalar.STRING;
    case ScalarType.BYTES:
      return CelScalar.BYTES;
    case ScalarType.TIMESTAMP:
      return objectType(TimestampSchema);
    case ScalarType.UNSPECIFIED:
      return CelScalar.DYN;
  }
}

/** Whether a CEL result type can be stored in a column of the declared type. */
export function celTypeFits(result: CelType, declared: DataType): boolean {
  const expected = celTypeOf(declared);
  if (expected.kind === "list") return result.kind === "list";
  return result.name === expected.name;
}
