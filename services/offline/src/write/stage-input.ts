import * as arrow from "apache-arrow";
import { InvalidArgumentError } from "@granary/errors";
import type { Column } from "@granary/proto/types";
import type { DuckConnection } from "../engine/duck-connection.js";
import { ArrowStager, stageColumn, type StagedColumn } from "../arrow/arrow-to-duck.js";
import { arrowFits, describeDataType } from "../types/column-types.js";

export interface StagedInput {
  readonly columns: readonly StagedColumn[];
  readonly rows: number;
}

export interface StageOptions {
  /** The columns the input may carry, by name. */
  readonly allowed: ReadonlyMap<string, Column>;
  /** Columns the input must carry. */
  readonly required: readonly string[];
  /** What the input is, for messages: "the insert", "the spine". */
  readonly what: string;
}

/**
 * Reads an Arrow IPC stream (the concatenated chunks of a call) into a temporary table with the
 * columns' Granary types (in stream order: `rowid` is the row's position), checking its schema
 * first: unknown, repeated or mistyped columns and missing required ones are rejected before a
 * row is stored.
 */
export async function stageArrowInput(connection: DuckConnection, table: string, chunks: AsyncIterable<Uint8Array>, options: StageOptions, signal?: AbortSignal): Promise<StagedInput> {
  let reader: arrow.AsyncRecordBatchStreamReader;
  try {
    reader = (await arrow.RecordBatchReader.from(chunks)) as arrow.AsyncRecordBatchStreamReader;
    await reader.open();
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw err;
    throw new InvalidArgumentError(`${options.what} is not an Arrow IPC stream: ${firstLine(err)}`, { cause: err });
  }
  if (!reader.schema) throw new InvalidArgumentError(`${options.what} carries no Arrow stream: send the schema and record batches as chunks after the header`);
  const columns = checkSchema(reader.schema, options);
  const stager = await ArrowStager.create(connection, table, columns, true, signal);
  for await (const batch of readBatches(reader, options.what)) {
    signal?.throwIfAborted();
    await stager.append(batch, signal);
  }
  await stager.close(signal);
  return { columns, rows: stager.rows };
}

function checkSchema(schema: arrow.Schema, options: StageOptions): StagedColumn[] {
  const seen = new Set<string>();
  const problems: string[] = [];
  const columns: StagedColumn[] = [];
  schema.fields.forEach((field, i) => {
    const column = options.allowed.get(field.name);
    if (!column) {
      problems.push(`column "${field.name}" is not one ${options.what} may carry (expected ${[...options.allowed.keys()].join(", ")})`);
      return;
    }
    if (seen.has(field.name)) {
      problems.push(`column "${field.name}" appears twice`);
      return;
    }
    seen.add(field.name);
    if (!arrowFits(field.type, column.type!)) {
      problems.push(`column "${field.name}" is ${String(field.type)} but must be ${describeDataType(column.type!)}`);
      return;
    }
    columns.push(stageColumn(field.name, i, field.type, column.type!));
  });
  const missing = options.required.filter((name) => !seen.has(name));
  if (missing.length > 0) problems.push(`${missing.map((m) => `"${m}"`).join(", ")} ${missing.length === 1 ? "is" : "are"} missing (required: ${options.required.join(", ")})`);
  if (problems.length > 0) throw new InvalidArgumentError(`${options.what}: ${problems.join("; ")}`);
  return columns;
}

async function* readBatches(reader: arrow.AsyncRecordBatchStreamReader, what: string): AsyncGenerator<arrow.RecordBatch> {
  try {
    for await (const batch of reader) yield batch;
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw err;
    throw new InvalidArgumentError(`${what}: the Arrow stream is broken: ${firstLine(err)}`, { cause: err });
  }
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split("\n")[0] ?? "";
}
