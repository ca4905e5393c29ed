import { rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { create } from "@bufbuild/protobuf";
import * as arrow from "apache-arrow";
import {
  BIGINT,
  BLOB,
  BOOLEAN,
  DATE,
  DOUBLE,
  DuckDBBlobValue,
  DuckDBDataChunk,
  DuckDBDateValue,
  DuckDBListValue,
  DuckDBTimestampTZValue,
  FLOAT,
  INTEGER,
  LIST,
  SMALLINT,
  TIMESTAMPTZ,
  TINYINT,
  UBIGINT,
  UINTEGER,
  USMALLINT,
  UTINYINT,
  VARCHAR,
  type DuckDBAppender,
  type DuckDBType,
  type DuckDBValue,
} from "@duckdb/node-api";
import type { PlainValue } from "@granary/cel";
import { valueReader } from "@granary/arrow";
import { DataTypeSchema, ScalarType, type DataType } from "@granary/proto/types";
import { CliError } from "../cli-error.js";
import { duckMessage, openDuck, quoteIdent, sqlString, type Duck } from "./duckdb.js";

export type TableFormat = "parquet" | "csv";

/** One column of the output: its DuckDB type, and how a row of an Arrow column becomes a DuckDB value. */
interface OutColumn {
  readonly name: string;
  readonly duckType: DuckDBType;
  reader(data: arrow.Data): (i: number) => DuckDBValue;
}

const CHUNK_ROWS = 2048;

const INTS: Record<string, DuckDBType> = { i8: TINYINT, i16: SMALLINT, u8: UTINYINT, u16: USMALLINT, u32: UINTEGER, u64: UBIGINT };

/**
 * Writes record batches to a Parquet or CSV file through DuckDB: batches are appended to a table
 * (spilling to disk beyond memory), then COPY writes the file next to the target and renames it
 * into place, so a failed run never leaves a partial file under the target name.
 */
export class TableWriter {
  readonly #duck: Duck;
  readonly #out: string;
  readonly #format: TableFormat;
  #columns: OutColumn[] | undefined;
  #appender: DuckDBAppender | undefined;
  #rows = 0;

  private constructor(duck: Duck, out: string, format: TableFormat) {
    this.#duck = duck;
    this.#out = out;
    this.#format = format;
  }

  static async open(out: string, format: TableFormat): Promise<TableWriter> {
    return new TableWriter(await openDuck(), out, format);
  }

  get rows(): number {
    return this.#rows;
  }

  get columnCount(): number {
    return this.#columns?.length ?? 0;
  }

  async append(batch: arrow.RecordBatch): Promise<void> {
    if (!this.#columns) await this.#createTable(batch.schema);
    const columns = this.#columns!;
    const readers = columns.map((c, i) => c.reader(batch.data.children[i]!));
    for (let start = 0; start < batch.numRows; start += CHUNK_ROWS) {
      const n = Math.min(CHUNK_ROWS, batch.numRows - start);
      const chunk = DuckDBDataChunk.create(
        columns.map((c) => c.duckType),
        n,
      );
      for (let c = 0; c < columns.length; c++) {
        const read = readers[c]!;
        const values = new Array<DuckDBValue>(n);
        for (let i = 0; i < n; i++) values[i] = read(start + i);
        chunk.setColumnValues(c, values);
      }
      this.#appender!.appendDataChunk(chunk);
    }
    this.#rows += batch.numRows;
  }

  /** Writes the file. `schema` gives the columns when no batch arrived (an empty result still has them). */
  async finish(schema: arrow.Schema): Promise<void> {
    if (!this.#columns) await this.#createTable(schema);
    this.#appender!.closeSync();
    const temp = join(dirname(this.#out), `.${basename(this.#out)}.${process.pid}.partial`);
    const options = this.#format === "parquet" ? "FORMAT parquet, COMPRESSION zstd" : "FORMAT csv, HEADER true";
    try {
      await this.#duck.connection.run(`COPY granary_out TO ${sqlString(temp)} (${options})`);
      await rename(temp, this.#out);
    } catch (err) {
      await rm(temp, { force: true });
      if (err instanceof Error && "code" in err) throw err;
      throw new CliError(`cannot write ${this.#out}: ${duckMessage(err)}`);
    }
  }

  async close(): Promise<void> {
    await this.#duck.close();
  }

  async #createTable(schema: arrow.Schema): Promise<void> {
    const columns = schema.fields.map((f) => outColumn(f));
    const defs = columns.map((c) => `${quoteIdent(c.name)} ${c.duckType.toString()}`).join(", ");
    await this.#duck.connection.run(`CREATE TABLE granary_out (${defs})`);
    this.#appender = await this.#duck.connection.createAppender("granary_out");
    this.#columns = columns;
  }
}

function outColumn(field: arrow.Field): OutColumn {
  const type = granaryType(field.type);
  if (type) {
    const duckType = duckTypeOf(type);
    const toDuck = duckValue(type);
    return {
      name: field.name,
      duckType,
      reader: (data) => {
        const read = valueReader(data, type);
        return (i) => {
          const v = read(i);
          return v === null ? null : toDuck(v);
        };
      },
    };
  }
  // Narrow and unsigned integers (not Granary types, but Arrow allows them): read value by value.
  const t = field.type;
  const small = arrow.DataType.isInt(t) ? INTS[`${t.isSigned ? "i" : "u"}${t.bitWidth}`] : undefined;
  if (!small) throw new CliError(`column "${field.name}" has Arrow type ${field.type}, which cannot be written here`);
  return {
    name: field.name,
    duckType: small,
    reader: (data) => {
      const vector = arrow.makeVector(data);
      return (i) => (vector.get(i) ?? null) as DuckDBValue;
    },
  };
}

/** The Granary type of an Arrow type as the services produce them (timestamps in microseconds). */
export function granaryType(type: arrow.DataType): DataType | undefined {
  if (arrow.DataType.isList(type)) {
    const item = granaryType(type.children[0]!.type);
    return item && !item.list ? create(DataTypeSchema, { scalar: item.scalar, list: true }) : undefined;
  }
  const scalar = ((): ScalarType | undefined => {
    if (arrow.DataType.isBool(type)) return ScalarType.BOOL;
    if (arrow.DataType.isInt(type) && type.isSigned && type.bitWidth === 32) return ScalarType.INT32;
    if (arrow.DataType.isInt(type) && type.isSigned && type.bitWidth === 64) return ScalarType.INT64;
    if (arrow.DataType.isFloat(type) && type.precision === arrow.Precision.SINGLE) return ScalarType.FLOAT;
    if (arrow.DataType.isFloat(type) && type.precision === arrow.Precision.DOUBLE) return ScalarType.DOUBLE;
    if (arrow.DataType.isUtf8(type)) return ScalarType.STRING;
    if (arrow.DataType.isBinary(type)) return ScalarType.BYTES;
    if (arrow.DataType.isTimestamp(type) && type.unit === arrow.TimeUnit.MICROSECOND) return ScalarType.TIMESTAMP;
    if (arrow.DataType.isDate(type) && type.unit === arrow.DateUnit.DAY) return ScalarType.DATE;
    return undefined;
  })();
  return scalar === undefined ? undefined : create(DataTypeSchema, { scalar, list: false });
}

function duckTypeOf(type: DataType): DuckDBType {
  if (type.list) return LIST(duckTypeOf({ ...type, list: false } as DataType));
  switch (type.scalar) {
    case ScalarType.BOOL:
      return BOOLEAN;
    case ScalarType.INT32:
      return INTEGER;
    case ScalarType.INT64:
      return BIGINT;
    case ScalarType.FLOAT:
      return FLOAT;
    case ScalarType.DOUBLE:
      return DOUBLE;
    case ScalarType.BYTES:
      return BLOB;
    case ScalarType.TIMESTAMP:
      return TIMESTAMPTZ;
    case ScalarType.DATE:
      return DATE;
    default:
      return VARCHAR;
  }
}

function duckValue(type: DataType): (v: PlainValue) => DuckDBValue {
  if (type.list) {
    const item = duckValue({ ...type, list: false } as DataType);
    return (v) => new DuckDBListValue((v as readonly PlainValue[]).map(item));
  }
  switch (type.scalar) {
    case ScalarType.TIMESTAMP:
      return (v) => new DuckDBTimestampTZValue(BigInt(v as bigint));
    case ScalarType.DATE:
      return (v) => new DuckDBDateValue(v as number);
    case ScalarType.BYTES:
      return (v) => new DuckDBBlobValue(v as Uint8Array);
    case ScalarType.INT64:
      return (v) => BigInt(v as bigint);
    default:
      return (v) => v as DuckDBValue;
  }
}
