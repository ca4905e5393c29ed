import { InvalidArgumentError } from "@granary/errors";
import { ScalarType, type ColumnData, type DataType } from "@granary/proto/types";
import type { CellValue, Scalar } from "../store/row-codec.js";

/** Reads row i of a request column as a JS value (null when null). */
export type ColumnReader = (row: number) => CellValue;

/**
 * Which ColumnData arrays can carry a column of each scalar type: its own, or one that widens
 * without loss (int32s → int64, floats → double), as for Arrow input (see arrowFits); doubles into
 * a float column would round, so they are refused as Float64 is.
 */
const ACCEPTS: Record<ScalarType, readonly string[]> = {
  [ScalarType.UNSPECIFIED]: [],
  [ScalarType.BOOL]: ["bools"],
  [ScalarType.INT32]: ["int32s"],
  [ScalarType.INT64]: ["int64s", "int32s"],
  [ScalarType.FLOAT]: ["floats"],
  [ScalarType.DOUBLE]: ["doubles", "floats"],
  [ScalarType.STRING]: ["strings"],
  [ScalarType.BYTES]: ["bytes"],
  [ScalarType.TIMESTAMP]: ["timestamps"],
  [ScalarType.DATE]: ["dates"],
};

/**
 * A reader over a request column, after checking that its values fit the declared type and that it
 * has `rows` entries. Errors name the column, for the caller to fix.
 */
export function columnReader(name: string, data: ColumnData | undefined, type: DataType, rows: number, what = "column"): ColumnReader {
  const nulls = new Set(data?.nullIndexes ?? []);
  const values = data?.values;
  if (!values || values.case === undefined) {
    if (rows === 0 || nulls.size === rows) return () => null;
    throw new InvalidArgumentError(`${what} "${name}" has no values`);
  }
  if (type.list) {
    if (values.case !== "lists") throw mismatch(name, type, values.case, what);
    const { offsets, items } = values.value;
    if (offsets.length !== rows + 1) throw new InvalidArgumentError(`${what} "${name}" has ${Math.max(0, offsets.length - 1)} lists for ${rows} rows`);
    const itemReader = columnReader(name, items, { ...type, list: false } as DataType, offsets.at(-1) ?? 0, what);
    return (row) => {
      if (nulls.has(row)) return null;
      const out: Scalar[] = [];
      for (let k = offsets[row]!; k < offsets[row + 1]!; k++) out.push(itemReader(k) as Scalar);
      return out;
    };
  }
  if (!ACCEPTS[type.scalar].includes(values.case)) throw mismatch(name, type, values.case, what);
  const array = (values.value as { values: readonly Scalar[] }).values;
  if (array.length !== rows) throw new InvalidArgumentError(`${what} "${name}" has ${array.length} values for ${rows} rows`);
  const widenToBigint = type.scalar === ScalarType.INT64 && values.case === "int32s";
  return (row) => {
    if (nulls.has(row)) return null;
    const v = array[row]!;
    return widenToBigint ? BigInt(v as number) : v;
  };
}

function mismatch(name: string, type: DataType, got: string, what: string): InvalidArgumentError {
  const expected = type.list ? `lists of ${ScalarType[type.scalar].toLowerCase()}` : (ACCEPTS[type.scalar][0] ?? "values");
  return new InvalidArgumentError(`${what} "${name}" must carry ${expected}, got ${got}`);
}
