import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { ScalarType, type DataType, type Value } from "@granary/proto/types";
import { InvalidArgumentError } from "@granary/errors";
import { duckTypeSql } from "@granary/arrow";
import { timestampMicros } from "../timestamps.js";

/** A double-quoted SQL identifier. Names are identifiers already; quoting keeps keywords safe. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * A single-quoted SQL string literal. DuckDB takes SQL as a NUL-terminated string, yet its strings
 * (and Parquet's) hold NUL: a value with NUL becomes an expression joining the parts with chr(0),
 * so the value round-trips instead of cutting the statement short.
 */
export function quoteString(value: string): string {
  const quoted = `'${value.replace(/'/g, "''")}'`;
  return value.includes("\u0000") ? `(${quoted.replace(/\u0000/g, "' || chr(0) || '")})` : quoted;
}

/** A literal list of file paths for read_parquet. */
export function fileList(paths: readonly string[]): string {
  return `[${paths.map(quoteString).join(", ")}]`;
}

/** A TIMESTAMP literal for UTC microseconds since the epoch. */
export function timestampLiteral(micros: bigint): string {
  return `make_timestamp(${micros.toString()}::BIGINT)`;
}

/** A typed SQL literal for a Granary value, checked against the column's type. */
export function valueLiteral(value: Value | undefined, type: DataType, what: string): string {
  const kind = value?.kind;
  if (!kind || kind.case === undefined) return `NULL::${duckTypeSql(type)}`;
  if (type.list) {
    if (kind.case !== "listValue") throw mismatch(what, type);
    const item = { ...type, list: false } as DataType;
    return `[${kind.value.values.map((v) => valueLiteral(v, item, what)).join(", ")}]::${duckTypeSql(type)}`;
  }
  switch (type.scalar) {
    case ScalarType.BOOL:
      if (kind.case !== "boolValue") throw mismatch(what, type);
      return kind.value ? "TRUE" : "FALSE";
    case ScalarType.INT32:
    case ScalarType.INT64:
      if (kind.case !== "int32Value" && kind.case !== "int64Value") throw mismatch(what, type);
      return `${kind.value.toString()}::${duckTypeSql(type)}`;
    case ScalarType.FLOAT:
    case ScalarType.DOUBLE: {
      if (kind.case !== "floatValue" && kind.case !== "doubleValue" && kind.case !== "int32Value" && kind.case !== "int64Value") throw mismatch(what, type);
      // Typed as the column (FLOAT is 4 bytes): a DOUBLE default in a FLOAT column's CASE made the
      // whole expression DOUBLE, and its bytes were read as float32 halves (found by the property test).
      const sqlType = duckTypeSql(type);
      const n = Number(kind.value);
      if (Number.isNaN(n)) return `'nan'::${sqlType}`;
      if (!Number.isFinite(n)) return n > 0 ? `'inf'::${sqlType}` : `'-inf'::${sqlType}`;
      return `${n.toExponential()}::${sqlType}`;
    }
    case ScalarType.STRING:
      if (kind.case !== "stringValue") throw mismatch(what, type);
      return quoteString(kind.value);
    case ScalarType.BYTES:
      if (kind.case !== "bytesValue") throw mismatch(what, type);
      return `from_hex('${Buffer.from(kind.value).toString("hex")}')`;
    case ScalarType.TIMESTAMP:
      if (kind.case !== "timestampValue") throw mismatch(what, type);
      return timestampLiteral(timestampMicros(kind.value));
    case ScalarType.DATE:
      if (kind.case !== "dateValue") throw mismatch(what, type);
      return `(DATE '1970-01-01' + ${kind.value}::INTEGER)`;
    default:
      throw mismatch(what, type);
  }
}

function mismatch(what: string, type: DataType): InvalidArgumentError {
  const name = ScalarType[type.scalar]?.toLowerCase() ?? "unknown";
  return new InvalidArgumentError(`${what}: the value does not fit a ${type.list ? `list of ${name}` : name} column`);
}

/** Milliseconds of a timestamp, for messages. */
export function isoOf(ts: Timestamp): string {
  return new Date(timestampMs(ts)).toISOString();
}
