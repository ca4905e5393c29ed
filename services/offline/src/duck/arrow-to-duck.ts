import duckdb from "@duckdb/node-bindings";
import * as arrow from "apache-arrow";
import { ScalarType, type DataType } from "@granary/proto/types";
import type { DuckConnection } from "./duck-connection.js";
import { callerInputError } from "./duck-errors.js";
import { duckTypeSql } from "@granary/arrow";
import { quoteIdent } from "./sql-text.js";
import { ARROW_SCAN, registerScan, unregisterScan } from "./arrow-scan.js";

/**
 * How an Arrow input column lands in the staging table: a DuckDB type that holds Arrow's buffers as
 * they are (so they are copied, not converted value by value), and the SQL that then turns the
 * staged value into the group's type (timestamp units, widening, dates in milliseconds).
 */
export interface StagedColumn {
  readonly name: string;
  /** Index of the field in the Arrow schema. */
  readonly field: number;
  readonly input: arrow.DataType;
  readonly target: DataType;
  readonly stagedSql: string;
  /** SQL converting the staged column (named `name`) into the target type. */
  convert(expr: string): string;
}

type Filler = (vector: duckdb.Vector, data: arrow.Data, start: number, n: number) => void;

interface Physical {
  readonly sql: string;
  readonly logical: () => duckdb.LogicalType;
  readonly fill: Filler;
  /** SQL from the staged value to the target scalar type. */
  readonly convert: (expr: string) => string;
}

/** Plans the staging of one input column into a group column of `target` type. */
export function stageColumn(name: string, field: number, input: arrow.DataType, target: DataType): StagedColumn {
  const physical = physicalOf(input, target);
  return { name, field, input, target, stagedSql: physical.sql, convert: physical.convert };
}

/** Bytes of Arrow batches buffered before they are inserted in one statement. */
const SEGMENT_BYTES = 32 * 1024 * 1024;

/**
 * Loads Arrow record batches into a DuckDB table whose columns have the target types. Batches are
 * buffered up to SEGMENT_BYTES, then inserted with one `INSERT … SELECT <conversions> FROM
 * granary_arrow_scan(…)`: the scan (a table function) hands DuckDB 2,048-row chunks filled from the
 * Arrow buffers (fixed-width values and validity bitmaps copied as bytes, strings one call each), and
 * the conversions (timestamp units, widening) run in the same pass. Memory stays bounded by the
 * segment size; DuckDB spills the table to disk beyond its memory limit.
 */
export class ArrowStager {
  readonly #connection: DuckConnection;
  readonly #table: string;
  readonly #columns: readonly StagedColumn[];
  readonly #physical: Physical[];
  #pending: arrow.RecordBatch[] = [];
  #pendingBytes = 0;
  #rows = 0;

  private constructor(connection: DuckConnection, table: string, columns: readonly StagedColumn[]) {
    this.#connection = connection;
    this.#table = table;
    this.#columns = columns;
    this.#physical = columns.map((c) => physicalOf(c.input, c.target));
  }

  /** Creates `table` (temporary unless `temp` is false) with the columns' target types. */
  static async create(connection: DuckConnection, table: string, columns: readonly StagedColumn[], temp = true, signal?: AbortSignal): Promise<ArrowStager> {
    const defs = columns.map((c) => `${quoteIdent(c.name)} ${duckTypeSql(c.target)}`).join(", ");
    await connection.run(`CREATE ${temp ? "TEMP " : ""}TABLE ${table} (${defs})`, signal);
    return new ArrowStager(connection, table, columns);
  }

  get rows(): number {
    return this.#rows;
  }

  async append(batch: arrow.RecordBatch, signal?: AbortSignal): Promise<void> {
    if (batch.numRows === 0) return;
    this.#pending.push(batch);
    this.#pendingBytes += batch.data.byteLength;
    if (this.#pendingBytes >= SEGMENT_BYTES) await this.#flush(signal);
  }

  async close(signal?: AbortSignal): Promise<void> {
    await this.#flush(signal);
  }

  async #flush(signal?: AbortSignal): Promise<void> {
    if (this.#pending.length === 0) return;
    const batches = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    const rows = batches.reduce((n, b) => n + b.numRows, 0);
    const key = registerScan({
      types: this.#physical.map((p) => p.logical),
      names: this.#columns.map((c) => c.name),
      fill: (out, batch, start, n) => {
        const children = batch.data.children;
        this.#physical.forEach((p, c) => p.fill(duckdb.data_chunk_get_vector(out, c), children[this.#columns[c]!.field]!, start, n));
      },
      batches,
    });
    try {
      const names = this.#columns.map((c) => quoteIdent(c.name)).join(", ");
      const select = this.#columns.map((c) => c.convert(quoteIdent(c.name))).join(", ");
      await this.#connection.run(`INSERT INTO ${this.#table} (${names}) SELECT ${select} FROM ${ARROW_SCAN}('${key}')`, signal);
    } catch (err) {
      signal?.throwIfAborted();
      throw callerInputError(err, "the rows sent");
    } finally {
      unregisterScan(key);
    }
    this.#rows += rows;
  }
}

function physicalOf(input: arrow.DataType, target: DataType): Physical {
  if (arrow.DataType.isDictionary(input) || input instanceof arrow.Utf8View || input instanceof arrow.BinaryView) {
    return slowPath(input, target);
  }
  if (arrow.DataType.isList(input) || input instanceof arrow.LargeList || arrow.DataType.isFixedSizeList(input)) {
    const childType = (input as arrow.List).children[0]!.type;
    const item = physicalOf(childType, { ...target, list: false } as DataType);
    return {
      sql: `${item.sql}[]`,
      logical: () => duckdb.create_list_type(item.logical()),
      fill: listFiller(input, item.fill),
      convert: (expr) => {
        const inner = item.convert("x");
        return inner === "x" ? expr : `list_transform(${expr}, x -> ${inner})`;
      },
    };
  }
  const scalarSql = duckTypeSql({ ...target, list: false } as DataType);
  const cast = (expr: string) => (scalarSql === "VARCHAR" && target.scalar === ScalarType.UNSPECIFIED ? expr : `CAST(${expr} AS ${scalarSql})`);
  if (arrow.DataType.isTimestamp(input)) {
    const toMicros = [(e: string) => `${e} * 1000000`, (e: string) => `${e} * 1000`, (e: string) => e, (e: string) => `${e} // 1000`][input.unit]!;
    const asTs = (e: string) => `make_timestamp(${toMicros(e)})`;
    return fixed("BIGINT", duckdb.Type.BIGINT, 8, target.scalar === ScalarType.TIMESTAMP ? asTs : (e) => cast(asTs(e)));
  }
  if (arrow.DataType.isDate(input)) {
    if (input.unit === arrow.DateUnit.DAY) return fixed("DATE", duckdb.Type.DATE, 4, (e) => (target.scalar === ScalarType.DATE ? e : cast(e)));
    return fixed("BIGINT", duckdb.Type.BIGINT, 8, (e) => cast(`make_timestamp(${e} * 1000)`));
  }
  if (arrow.DataType.isInt(input)) {
    const key = `${input.isSigned ? "i" : "u"}${input.bitWidth}`;
    const [sql, type] = INTS[key]!;
    return fixed(sql, type, input.bitWidth / 8, cast);
  }
  if (arrow.DataType.isFloat(input) && input.precision !== arrow.Precision.HALF) {
    const single = input.precision === arrow.Precision.SINGLE;
    return fixed(single ? "FLOAT" : "DOUBLE", single ? duckdb.Type.FLOAT : duckdb.Type.DOUBLE, single ? 4 : 8, cast);
  }
  if (arrow.DataType.isBool(input)) {
    return { sql: "BOOLEAN", logical: () => duckdb.create_logical_type(duckdb.Type.BOOLEAN), fill: boolFiller, convert: cast };
  }
  if (arrow.DataType.isUtf8(input) || arrow.DataType.isLargeUtf8(input)) {
    return { sql: "VARCHAR", logical: () => duckdb.create_logical_type(duckdb.Type.VARCHAR), fill: bytesFiller, convert: cast };
  }
  if (arrow.DataType.isBinary(input) || arrow.DataType.isLargeBinary(input)) {
    return { sql: "BLOB", logical: () => duckdb.create_logical_type(duckdb.Type.BLOB), fill: bytesFiller, convert: cast };
  }
  return slowPath(input, target);
}

const INTS: Record<string, [string, duckdb.Type]> = {
  i8: ["TINYINT", duckdb.Type.TINYINT],
  i16: ["SMALLINT", duckdb.Type.SMALLINT],
  i32: ["INTEGER", duckdb.Type.INTEGER],
  i64: ["BIGINT", duckdb.Type.BIGINT],
  u8: ["UTINYINT", duckdb.Type.UTINYINT],
  u16: ["USMALLINT", duckdb.Type.USMALLINT],
  u32: ["UINTEGER", duckdb.Type.UINTEGER],
  u64: ["UBIGINT", duckdb.Type.UBIGINT],
};

function fixed(sql: string, type: duckdb.Type, width: number, convert: (e: string) => string): Physical {
  return {
    sql,
    logical: () => duckdb.create_logical_type(type),
    convert,
    fill: (vector, data, start, n) => {
      // Arrow JS slices fixed-width value buffers (row 0 of the slice is element 0) but not
      // validity bitmaps, which keep `data.offset` as their bit offset.
      const values = data.values as ArrayBufferView;
      const byteStart = values.byteOffset + start * width;
      duckdb.copy_data_to_vector(vector, 0, values.buffer as ArrayBuffer, byteStart, n * width);
      copyValidity(vector, data, start, n);
    },
  };
}

const boolFiller: Filler = (vector, data, start, n) => {
  const bits = data.values as Uint8Array;
  const bytes = new Uint8Array(n);
  const base = data.offset + start;
  for (let i = 0; i < n; i++) {
    const bit = base + i;
    bytes[i] = (bits[bit >>> 3]! >>> (bit & 7)) & 1;
  }
  duckdb.copy_data_to_vector(vector, 0, bytes.buffer, 0, n);
  copyValidity(vector, data, start, n);
};

const bytesFiller: Filler = (vector, data, start, n) => {
  // Offsets are sliced with the data (index from `start`); they point into the unsliced bytes.
  const offsets = data.valueOffsets as Int32Array | BigInt64Array;
  const bytes = data.values as Uint8Array;
  const bit = data.offset + start;
  const valid = validityReader(data);
  if (offsets instanceof BigInt64Array) {
    for (let i = 0; i < n; i++) {
      if (!valid(bit + i)) continue;
      duckdb.vector_assign_string_element_len(vector, i, bytes.subarray(Number(offsets[start + i]!), Number(offsets[start + i + 1]!)));
    }
  } else {
    for (let i = 0; i < n; i++) {
      if (!valid(bit + i)) continue;
      duckdb.vector_assign_string_element_len(vector, i, bytes.subarray(offsets[start + i]!, offsets[start + i + 1]!));
    }
  }
  copyValidity(vector, data, start, n);
};

function listFiller(input: arrow.DataType, fillItem: Filler): Filler {
  const fixedSize = arrow.DataType.isFixedSizeList(input) ? input.listSize : 0;
  return (vector, data, start, n) => {
    // Variable lists: offsets sliced with the data. Fixed-size lists: no offsets, the child is
    // addressed from the unsliced row index.
    const base = fixedSize ? data.offset + start : start;
    const offsetAt = fixedSize
      ? (i: number) => i * fixedSize
      : data.valueOffsets instanceof BigInt64Array
        ? (i: number) => Number((data.valueOffsets as BigInt64Array)[i]!)
        : (i: number) => (data.valueOffsets as Int32Array)[i]!;
    const first = offsetAt(base);
    const total = offsetAt(base + n) - first;
    const entries = new BigUint64Array(n * 2);
    for (let i = 0; i < n; i++) {
      entries[2 * i] = BigInt(offsetAt(base + i) - first);
      entries[2 * i + 1] = BigInt(offsetAt(base + i + 1) - offsetAt(base + i));
    }
    duckdb.copy_data_to_vector(vector, 0, entries.buffer, 0, entries.byteLength);
    duckdb.list_vector_reserve(vector, total);
    duckdb.list_vector_set_size(vector, total);
    if (total > 0) fillItem(duckdb.list_vector_get_child(vector), data.children[0]!, first, total);
    copyValidity(vector, data, start, n);
  };
}

/** Anything without a byte-level path (dictionaries, string views): value by value. */
function slowPath(input: arrow.DataType, target: DataType): Physical {
  const scalar = target.list ? ScalarType.STRING : target.scalar;
  const sql = duckTypeSql({ ...target, list: false } as DataType);
  const isString = scalar === ScalarType.STRING || scalar === ScalarType.BYTES || target.list;
  return {
    sql: isString ? (scalar === ScalarType.BYTES ? "BLOB" : "VARCHAR") : "DOUBLE",
    logical: () => duckdb.create_logical_type(isString ? (scalar === ScalarType.BYTES ? duckdb.Type.BLOB : duckdb.Type.VARCHAR) : duckdb.Type.DOUBLE),
    convert: (e) => (target.list ? `CAST(${e} AS ${duckTypeSql(target)})` : `CAST(${e} AS ${sql})`),
    fill: (vector, data, start, n) => {
      const v = arrow.makeVector(data);
      const out = isString ? undefined : new Float64Array(n);
      const validity = new Uint8Array(Math.ceil(n / 64) * 8).fill(0xff);
      let nulls = 0;
      for (let i = 0; i < n; i++) {
        const value: unknown = v.get(start + i);
        if (value === null || value === undefined) {
          validity[i >>> 3]! &= ~(1 << (i & 7));
          nulls++;
        } else if (out) {
          out[i] = Number(value);
        } else if (value instanceof Uint8Array) {
          duckdb.vector_assign_string_element_len(vector, i, value);
        } else {
          duckdb.vector_assign_string_element(
            vector,
            i,
            typeof value === "object" ? JSON.stringify(Array.from(value as Iterable<unknown>, (x) => (typeof x === "bigint" ? Number(x) : x))) : String(value),
          );
        }
      }
      if (out) duckdb.copy_data_to_vector(vector, 0, out.buffer, 0, n * 8);
      if (nulls > 0) {
        duckdb.vector_ensure_validity_writable(vector);
        duckdb.copy_data_to_vector_validity(vector, 0, validity.buffer, 0, validity.byteLength);
      }
    },
  };
}

function validityReader(data: arrow.Data): (index: number) => boolean {
  const bitmap = data.nullBitmap;
  if (!bitmap || bitmap.length === 0 || data.nullCount === 0) return () => true;
  return (i) => ((bitmap[i >>> 3]! >>> (i & 7)) & 1) === 1;
}

/** Copies rows [start, start+n) of Arrow's validity bitmap into the vector's validity mask. */
function copyValidity(vector: duckdb.Vector, data: arrow.Data, start: number, n: number): void {
  const bitmap = data.nullBitmap;
  if (!bitmap || bitmap.length === 0 || data.nullCount === 0) return;
  const words = Math.ceil(n / 64) * 8;
  const out = new Uint8Array(words);
  const base = data.offset + start;
  if ((base & 7) === 0) {
    out.set(bitmap.subarray(base >>> 3, (base >>> 3) + Math.ceil(n / 8)));
  } else {
    for (let i = 0; i < n; i++) {
      const bit = base + i;
      if ((bitmap[bit >>> 3]! >>> (bit & 7)) & 1) out[i >>> 3]! |= 1 << (i & 7);
    }
  }
  // Bits past n must not be read as nulls of other rows; they are never read, but keep them clean.
  duckdb.vector_ensure_validity_writable(vector);
  duckdb.copy_data_to_vector_validity(vector, 0, out.buffer, 0, out.byteLength);
}
