import { create } from "@bufbuild/protobuf";
import * as arrow from "apache-arrow";
import { checkArrowSchema, timeMicrosReader, type CheckedField } from "@granary/arrow";
import { InvalidArgumentError } from "@granary/errors";
import type { FeatureGroup } from "@granary/proto/metadata";
import { ColumnarRowsSchema, ScalarType, type ColumnData, type ColumnarRows, type DataType } from "@granary/proto/types";

const MICROS_PER_DAY = 86_400_000_000n;

/** An Arrow IPC stream of a group's columns, parsed and checked, not yet converted. */
export interface ArrowRows {
  readonly table: arrow.Table;
  /** The stream's fields matched to the group's columns (lists refused). */
  readonly fields: readonly CheckedField[];
  readonly rowCount: number;
}

/**
 * Parses an Arrow IPC stream and runs the schema check every write path shares (checkArrowSchema):
 * a column whose Arrow type does not fit its declared type is refused, never converted.
 */
export function readArrowRows(bytes: Uint8Array, group: FeatureGroup): ArrowRows {
  let table;
  try {
    table = arrow.tableFromIPC(bytes);
  } catch (err) {
    throw new InvalidArgumentError(`arrow_ipc is not an Arrow IPC stream: ${err instanceof Error ? err.message : String(err)}`);
  }
  const fields = checkArrowSchema(table.schema, {
    allowed: new Map(group.columns.map((c) => [c.name, c])),
    required: [...group.primaryKey, ...(group.eventTime ? [group.eventTime] : [])],
    what: `arrow_ipc for "${group.name}" version ${group.version}`,
  });
  for (const f of fields) {
    if (f.column.type!.list) throw new InvalidArgumentError(`column "${f.name}": list columns are not accepted as Arrow yet; send them as columnar rows`);
  }
  return { table, fields, rowCount: table.numRows };
}

/**
 * An Arrow IPC stream of a group's columns, as columnar rows (the write log's payload), after
 * readArrowRows' checks. Widening is exact: timestamps of any unit become microseconds, dates
 * days, small ints int64.
 */
export function arrowToColumnarRows(bytes: Uint8Array, group: FeatureGroup): ColumnarRows {
  const { table, fields } = readArrowRows(bytes, group);
  const columns = fields.map((f) => ({ name: f.name, data: columnData(table.getChildAt(f.field)!, f.column.type!, table.numRows) }));
  return create(ColumnarRowsSchema, { rowCount: table.numRows, columns });
}

const CASES: Record<ScalarType, string> = {
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

function columnData(vector: arrow.Vector, type: DataType, rows: number): ColumnData {
  const nullIndexes: number[] = [];
  const values: unknown[] = new Array(rows);
  let row = 0;
  for (const data of vector.data) {
    const read = arrowCellReader(data, type);
    for (let i = 0; i < data.length; i++, row++) {
      const v = read(i);
      if (v === null) {
        nullIndexes.push(row);
        values[row] = zeroOf(type);
      } else {
        values[row] = v;
      }
    }
  }
  return { $typeName: "granary.types.v1.ColumnData", values: { case: CASES[type.scalar], value: { values } }, nullIndexes } as unknown as ColumnData;
}

/**
 * Row i of one chunk as the columnar value of `type` (int64 and timestamps as bigint, dates as
 * days, null for null); the schema check has vouched for the Arrow type.
 */
export function arrowCellReader(data: arrow.Data, type: DataType): (i: number) => unknown {
  const vector = arrow.makeVector(data);
  switch (type.scalar) {
    case ScalarType.TIMESTAMP:
      return timeMicrosReader(data);
    case ScalarType.DATE: {
      const micros = timeMicrosReader(data);
      return (i) => {
        const m = micros(i);
        return m === null ? null : Number(m / MICROS_PER_DAY);
      };
    }
    case ScalarType.INT64:
      return (i) => (vector.isValid(i) ? BigInt(vector.get(i) as number | bigint) : null);
    case ScalarType.INT32:
    case ScalarType.FLOAT:
    case ScalarType.DOUBLE:
      return (i) => (vector.isValid(i) ? Number(vector.get(i) as number) : null);
    default:
      return (i) => (vector.isValid(i) ? (vector.get(i) as unknown) : null);
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
