import { create } from "@bufbuild/protobuf";
import * as arrow from "apache-arrow";
import { arrowTypeOf, buildColumn, ipcBytes } from "@granary/arrow";
import { ColumnarRowsSchema, DataTypeSchema, ScalarType, type Column, type ColumnData, type ColumnarRows, type DataType } from "@granary/proto/types";
import { columnDataReader } from "../consistency/column-values.js";

/**
 * Arrow columns as the online service's ColumnarRows (typed packed arrays, null indexes): used for
 * key deletions and for groups with list columns, which its Arrow path does not take yet.
 */
export function columnarRowsOf(batch: arrow.RecordBatch, columns: readonly Column[]): ColumnarRows {
  return create(ColumnarRowsSchema, {
    rowCount: batch.numRows,
    columns: columns.map((c) => ({ name: c.name, data: columnData(batch.getChild(c.name)!, c.type!) })),
  });
}

function columnData(vector: arrow.Vector, type: DataType): ColumnData {
  const n = vector.length;
  const nullIndexes: number[] = [];
  for (let i = 0; i < n; i++) if (!vector.isValid(i)) nullIndexes.push(i);
  const data = { values: valuesOf(vector, type, nullIndexes), nullIndexes } as unknown as ColumnData;
  return data;
}

function valuesOf(vector: arrow.Vector, type: DataType, nulls: readonly number[]): { case: string; value: unknown } {
  const n = vector.length;
  if (type.list) {
    const offsets = [0];
    const items: unknown[] = [];
    for (let i = 0; i < n; i++) {
      const list = vector.get(i) as arrow.Vector | null;
      if (list) for (const v of list) items.push(type.scalar === ScalarType.TIMESTAMP && typeof v === "number" ? BigInt(Math.round(v * 1000)) : v);
      offsets.push(items.length);
    }
    const child = arrow.vectorFromArray(items as never, arrowScalarOf(type));
    return { case: "lists", value: { offsets, items: columnData(child, { ...type, list: false } as DataType) } };
  }
  switch (type.scalar) {
    case ScalarType.INT64:
    case ScalarType.TIMESTAMP: {
      const values = Array.from(flatValues(vector) as BigInt64Array);
      for (const i of nulls) values[i] = 0n;
      return { case: type.scalar === ScalarType.INT64 ? "int64s" : "timestamps", value: { values } };
    }
    case ScalarType.INT32:
    case ScalarType.DATE:
    case ScalarType.FLOAT:
    case ScalarType.DOUBLE: {
      const values = Array.from(flatValues(vector) as Float64Array);
      for (const i of nulls) values[i] = 0;
      const name = { [ScalarType.INT32]: "int32s", [ScalarType.DATE]: "dates", [ScalarType.FLOAT]: "floats", [ScalarType.DOUBLE]: "doubles" }[type.scalar];
      return { case: name, value: { values } };
    }
    case ScalarType.BOOL:
      return { case: "bools", value: { values: Array.from({ length: n }, (_, i) => vector.get(i) === true) } };
    case ScalarType.BYTES:
      return { case: "bytes", value: { values: Array.from({ length: n }, (_, i) => (vector.get(i) as Uint8Array | null) ?? new Uint8Array()) } };
    default:
      return { case: "strings", value: { values: Array.from({ length: n }, (_, i) => (vector.get(i) as string | null) ?? "") } };
  }
}

/** The vector's values over its rows (Arrow JS slices fixed-width value buffers with the data). */
function flatValues(vector: arrow.Vector): ArrayLike<number | bigint> {
  const data = vector.data[0]!;
  const values = data.values as ArrayLike<number | bigint> & { subarray(a: number, b: number): ArrayLike<number | bigint> };
  return values.subarray(0, data.length);
}

/** As arrowTypeOf, except that timestamps and dates travel as their raw integers (µs, days). */
function arrowScalarOf(type: DataType): arrow.DataType {
  if (type.scalar === ScalarType.TIMESTAMP) return new arrow.Int64();
  if (type.scalar === ScalarType.DATE) return new arrow.Int32();
  return arrowTypeOf({ ...type, list: false });
}

/**
 * The other way, for rows from the write log: ColumnarRows as one Arrow IPC stream, each column in
 * the type its values travel as (int64s as Int64, timestamps as µs…), never the group's type, so
 * the insert path's schema check and type conversion (stageRows) judge them as they judge an
 * Insert's Arrow. Only a column without values (all null) takes the group's type.
 */
export function arrowOfColumnarRows(rows: ColumnarRows, groupColumns: readonly Column[]): Uint8Array {
  const n = rows.rowCount;
  const types = new Map(groupColumns.map((c) => [c.name, c.type!]));
  const fields: arrow.Field[] = [];
  const children: arrow.Data[] = [];
  for (const column of rows.columns) {
    const type = wireType(column.data, types.get(column.name));
    const read = columnDataReader(column.data, type);
    fields.push(new arrow.Field(column.name, arrowTypeOf(type), true));
    children.push(
      buildColumn(
        type,
        Array.from({ length: n }, (_, i) => read(i)),
      ),
    );
  }
  const schema = new arrow.Schema(fields);
  const batch = new arrow.RecordBatch(schema, arrow.makeData({ type: new arrow.Struct(fields), length: n, nullCount: 0, children }));
  return ipcBytes([batch], schema);
}

const WIRE_SCALARS: Record<string, ScalarType> = {
  bools: ScalarType.BOOL,
  int32s: ScalarType.INT32,
  int64s: ScalarType.INT64,
  floats: ScalarType.FLOAT,
  doubles: ScalarType.DOUBLE,
  strings: ScalarType.STRING,
  bytes: ScalarType.BYTES,
  timestamps: ScalarType.TIMESTAMP,
  dates: ScalarType.DATE,
};

function wireType(data: ColumnData | undefined, declared: DataType | undefined): DataType {
  const values = data?.values;
  if (!values?.case) return declared ?? create(DataTypeSchema, { scalar: ScalarType.STRING });
  if (values.case === "lists") {
    const item = wireType(values.value.items, declared && ({ ...declared, list: false } as DataType));
    return { ...item, list: true } as DataType;
  }
  return create(DataTypeSchema, { scalar: WIRE_SCALARS[values.case] ?? ScalarType.STRING });
}
