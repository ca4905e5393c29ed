import { basename } from "node:path";
import type * as arrow from "apache-arrow";
import { DuckDBBlobValue, DuckDBListValue, type DuckDBValue } from "@duckdb/node-api";
import { duckTypeSql } from "@granary/arrow";
import type { PlainValue } from "@granary/cel";
import { ScalarType, type DataType } from "@granary/proto/types";
import { CliError } from "../cli-error.js";
import type { DataSource } from "./data-source.js";
import { duckMessage, openDuck, quoteIdent, sqlString } from "./duckdb.js";
import { matchColumns, type GroupSchema } from "./match-columns.js";
import { recordBatchOf } from "./record-batch.js";

/**
 * A Parquet file read with DuckDB: each column cast in SQL to the group column's type in the form
 * the engine holds it (timestamps as epoch microseconds, dates as epoch days), streamed in DuckDB
 * chunks and cut into record batches of `batchRows` rows. Progress is measured in rows.
 */
export async function openParquet(file: string, group: GroupSchema, options: { batchRows: number }): Promise<DataSource> {
  const name = basename(file);
  const duck = await openDuck();
  const source = `read_parquet(${sqlString(file)})`;
  try {
    const described = await duck.connection.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`).catch((err: unknown) => {
      throw new CliError(`${name}: cannot read as Parquet: ${duckMessage(err)}`);
    });
    const fileColumns = described.getRowObjects().map((r) => ({ name: String(r["column_name"]), type: String(r["column_type"]) }));
    const columns = matchColumns(
      fileColumns.map((c) => c.name),
      group,
      name,
    );
    const count = await duck.connection.runAndReadAll(`SELECT count(*)::BIGINT AS n FROM ${source}`);
    const total = Number(count.getRowObjects()[0]?.["n"] ?? 0);
    const select = columns.map((c, i) => `${castSql(quoteIdent(c.name), fileColumns[i]!.type, c.type)} AS ${quoteIdent(c.name)}`).join(", ");
    let rowsRead = 0;

    async function* batches(): AsyncGenerator<arrow.RecordBatch> {
      const result = await duck.connection.stream(`SELECT ${select} FROM ${source}`);
      let values = columns.map(() => [] as (PlainValue | null)[]);
      let rows = 0;
      for (;;) {
        let chunk;
        try {
          chunk = await result.fetchChunk();
        } catch (err) {
          throw new CliError(`${name}: ${duckMessage(err)}`);
        }
        if (!chunk || chunk.rowCount === 0) break;
        for (let c = 0; c < columns.length; c++) {
          const target = values[c]!;
          for (const v of chunk.getColumnValues(c)) target.push(plainOf(v));
        }
        rows += chunk.rowCount;
        rowsRead += chunk.rowCount;
        if (rows >= options.batchRows) {
          yield recordBatchOf(columns, values);
          values = columns.map(() => []);
          rows = 0;
        }
      }
      if (rows > 0) yield recordBatchOf(columns, values);
    }

    return { columns, total, position: () => rowsRead, batches, close: () => duck.close() };
  } catch (err) {
    await duck.close();
    throw err;
  }
}

/** SQL turning a file column into the group column's engine form. */
export function castSql(expr: string, sourceType: string, target: DataType): string {
  if (target.list) {
    const item = scalarCast("x", sourceType.replace(/\[\]$/, ""), target.scalar);
    return item === "x" ? expr : `list_transform(${expr}, x -> ${item})`;
  }
  return scalarCast(expr, sourceType, target.scalar);
}

function scalarCast(expr: string, sourceType: string, scalar: ScalarType): string {
  switch (scalar) {
    case ScalarType.TIMESTAMP:
      return /WITH TIME ZONE|TIMESTAMPTZ/i.test(sourceType) ? `epoch_us(${expr})` : `epoch_us(CAST(${expr} AS TIMESTAMP))`;
    case ScalarType.DATE:
      return `CAST(CAST(${expr} AS DATE) - DATE '1970-01-01' AS INTEGER)`;
    default: {
      const sql = duckTypeSql({ scalar, list: false } as DataType);
      return sourceType.toUpperCase() === sql ? expr : `CAST(${expr} AS ${sql})`;
    }
  }
}

function plainOf(v: DuckDBValue): PlainValue | null {
  if (v === null) return null;
  if (v instanceof DuckDBBlobValue) return v.bytes;
  if (v instanceof DuckDBListValue) {
    return v.items.map((x) => {
      const item = plainOf(x);
      if (item === null) throw new CliError("a list in the file holds a null item; Granary lists hold values only (a whole list may be null)");
      return item;
    });
  }
  return v as PlainValue;
}
