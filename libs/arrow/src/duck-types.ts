import { ScalarType, type DataType } from "@granary/proto/types";

const SQL: Record<ScalarType, string> = {
  [ScalarType.UNSPECIFIED]: "VARCHAR",
  [ScalarType.BOOL]: "BOOLEAN",
  [ScalarType.INT32]: "INTEGER",
  [ScalarType.INT64]: "BIGINT",
  [ScalarType.FLOAT]: "FLOAT",
  [ScalarType.DOUBLE]: "DOUBLE",
  [ScalarType.STRING]: "VARCHAR",
  [ScalarType.BYTES]: "BLOB",
  [ScalarType.TIMESTAMP]: "TIMESTAMP",
  [ScalarType.DATE]: "DATE",
};

/** The DuckDB (and Parquet) type a Granary column is stored as. Timestamps are UTC microseconds. */
export function duckTypeSql(type: DataType): string {
  const scalar = SQL[type.scalar] ?? "VARCHAR";
  return type.list ? `${scalar}[]` : scalar;
}
