import { create } from "@bufbuild/protobuf";
import { ColumnSchema, DataTypeSchema, ScalarType, type Column, type DataType } from "@granary/proto/types";

/** A column type as users write it: "double", "int64", "list<float>", "embedding<384>". */
export type TypeName = string;

/** A column as users declare it; `type` is a TypeName or a DataType message. */
export interface ColumnSpec {
  readonly name: string;
  readonly type: TypeName | DataType;
  readonly description?: string;
}

const SCALARS: Record<string, ScalarType> = {
  bool: ScalarType.BOOL,
  boolean: ScalarType.BOOL,
  int: ScalarType.INT32,
  int32: ScalarType.INT32,
  int64: ScalarType.INT64,
  bigint: ScalarType.INT64,
  float: ScalarType.FLOAT,
  float32: ScalarType.FLOAT,
  double: ScalarType.DOUBLE,
  float64: ScalarType.DOUBLE,
  string: ScalarType.STRING,
  bytes: ScalarType.BYTES,
  timestamp: ScalarType.TIMESTAMP,
  date: ScalarType.DATE,
};

/** Parses "double", "list<string>", "array<int64>", "embedding<384>" (a list of float of that dimension). */
export function parseType(name: TypeName | DataType): DataType {
  if (typeof name !== "string") return name;
  const text = name.trim().toLowerCase();
  const embedding = /^embedding<(\d+)>$/.exec(text);
  if (embedding) return create(DataTypeSchema, { scalar: ScalarType.FLOAT, list: true, dimension: Number(embedding[1]) });
  const list = /^(?:list|array)<\s*(\w+)\s*>$/.exec(text);
  const scalar = SCALARS[list ? list[1]! : text];
  if (scalar === undefined) {
    throw new TypeError(`unknown column type "${name}": use one of ${Object.keys(SCALARS).join(", ")}, list<…> or embedding<dimension>`);
  }
  return create(DataTypeSchema, { scalar, list: list !== null });
}

/** The user-facing name of a type, the inverse of parseType. */
export function typeName(type: DataType | undefined): string {
  if (!type) return "unknown";
  const scalar = ScalarType[type.scalar]?.toLowerCase() ?? "unknown";
  if (type.list && type.dimension > 0 && type.scalar === ScalarType.FLOAT) return `embedding<${type.dimension}>`;
  return type.list ? `list<${scalar}>` : scalar;
}

export function toColumn(spec: ColumnSpec): Column {
  return create(ColumnSchema, { name: spec.name, type: parseType(spec.type), description: spec.description ?? "" });
}
