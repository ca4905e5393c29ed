import { create } from "@bufbuild/protobuf";
import { tableFromIPC, type Vector } from "apache-arrow";
import { InvalidArgumentError } from "@granary/errors";
import type { FeatureGroup } from "@granary/proto/metadata";
import { ColumnarRowsSchema, ScalarType, type ColumnData, type ColumnarRows, type DataType } from "@granary/proto/types";

/**
 * An Arrow IPC stream of a group's columns, as columnar rows. Arrow timestamps of any unit become
 * microseconds; dates become days.
 */
export function arrowToColumnarRows(bytes: Uint8Array, group: FeatureGroup): ColumnarRows {
  let table;
  try {
    table = tableFromIPC(bytes);
  } catch (err) {
    throw new InvalidArgumentError(`arrow_ipc is not an Arrow IPC stream: ${err instanceof Error ? err.message : String(err)}`);
  }
  const types = new Map(group.columns.map((c) => [c.name, c.type!]));
  const columns = table.schema.fields.map((field, i) => {
    const type = types.get(field.name);
    if (!type) throw new InvalidArgumentError(`column "${field.name}" is not in feature group "${group.name}" version ${group.version}`);
    return { name: field.name, data: columnData(table.getChildAt(i)!, type, table.numRows, field.name) };
  });
  return create(ColumnarRowsSchema, { rowCount: table.numRows, columns });
}

function columnData(vector: Vector, type: DataType, rows: number, name: string): ColumnData {
  const nullIndexes: number[] = [];
  const values: unknown[] = new Array(rows);
  for (let i = 0; i < rows; i++) {
    const v: unknown = vector.get(i);
    if (v === null || v === undefined) {
      nullIndexes.push(i);
      values[i] = zeroOf(type);
    } else {
      values[i] = convert(v, type, name);
    }
  }
  if (type.list) throw new InvalidArgumentError(`column "${name}": list columns are not accepted as Arrow yet; send them as columnar rows`);
  const cases: Record<ScalarType, string> = {
    [ScalarType.UNSPECIFIED]: "doubles",
    [ScalarType.BOOL]: "bools",
    [ScalarType.INT32]: "int32s",
    [ScalarType.INT64]: "int64s",
    [ScalarType.FLOAT]: "floats",
    [ScalarType.DOUBLE]: "doubles",
    [ScalarType.STRING]: "strings",
    [ScalarType.BYTES]: "bytes",
    [ScalarType.TIMESTAMP]: "timestamps",
    [ScalarType.DATE]: "dates",
  };
  return { $typeName: "granary.types.v1.ColumnData", values: { case: cases[type.scalar], value: { values } }, nullIndexes } as unknown as ColumnData;
}

function convert(v: unknown, type: DataType, name: string): unknown {
  switch (type.scalar) {
    case ScalarType.INT64:
      return typeof v === "bigint" ? v : BigInt(v as number);
    case ScalarType.TIMESTAMP:
      // apache-arrow reads timestamps as epoch milliseconds (a number, possibly fractional).
      return v instanceof Date ? BigInt(v.getTime()) * 1000n : BigInt(Math.round((v as number) * 1000));
    case ScalarType.DATE:
      return v instanceof Date ? Math.floor(v.getTime() / 86_400_000) : Math.floor((v as number) / 86_400_000);
    case ScalarType.INT32:
    case ScalarType.FLOAT:
    case ScalarType.DOUBLE:
      if (typeof v !== "number" && typeof v !== "bigint") throw new InvalidArgumentError(`column "${name}" must be numeric`);
      return Number(v);
    case ScalarType.BOOL:
      return Boolean(v);
    default:
      return v;
  }
}

function zeroOf(type: DataType): unknown {
  switch (type.scalar) {
    case ScalarType.INT64:
    case ScalarType.TIMESTAMP:
      return 0n;
    case ScalarType.STRING:
      return "";
    case ScalarType.BYTES:
      return new Uint8Array();
    case ScalarType.BOOL:
      return false;
    default:
      return 0;
  }
}
