import * as arrow from "apache-arrow";
import { checkArrowSchema, checkEventTime, timeMicrosReader, type ArrowSchemaRules, type EventTimeBounds } from "@granary/arrow";
import { InvalidArgumentError } from "@granary/errors";
import type { DuckConnection } from "./duck-connection.js";
import { ArrowStager, stageColumn, type StagedColumn } from "./arrow-to-duck.js";

export interface StagedInput {
  readonly columns: readonly StagedColumn[];
  readonly rows: number;
}

export interface StageOptions extends ArrowSchemaRules {
  /** An event-time column whose every value must lie within bounds (inserts; not spines). */
  readonly eventTime?: { readonly column: string; readonly bounds: EventTimeBounds } | undefined;
}

/**
 * Reads an Arrow IPC stream (the concatenated chunks of a call) into a temporary table with the
 * columns' Granary types (in stream order: `rowid` is the row's position), checking its schema
 * first: unknown, repeated or mistyped columns and missing required ones are rejected before a
 * row is stored.
 */
export async function stageArrowInput(
  connection: DuckConnection,
  table: string,
  chunks: AsyncIterable<Uint8Array>,
  options: StageOptions,
  signal?: AbortSignal,
): Promise<StagedInput> {
  let reader: arrow.AsyncRecordBatchStreamReader;
  try {
    reader = (await arrow.RecordBatchReader.from(chunks)) as arrow.AsyncRecordBatchStreamReader;
    await reader.open();
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw err;
    throw new InvalidArgumentError(`${options.what} is not an Arrow IPC stream: ${firstLine(err)}`, { cause: err });
  }
  if (!reader.schema) throw new InvalidArgumentError(`${options.what} carries no Arrow stream: send the schema and record batches as chunks after the header`);
  const columns = checkArrowSchema(reader.schema, options).map((f) => stageColumn(f.name, f.field, f.input, f.column.type!));
  const eventField = options.eventTime ? reader.schema.fields.findIndex((f) => f.name === options.eventTime!.column) : -1;
  const stager = await ArrowStager.create(connection, table, columns, true, signal);
  let offset = 0;
  for await (const batch of readBatches(reader, options.what)) {
    signal?.throwIfAborted();
    // Checked on Arrow's own values, before DuckDB converts units (int64-max would not survive).
    if (eventField >= 0) checkEventTimes(batch, eventField, offset, options.eventTime!.column, options.eventTime!.bounds);
    offset += batch.numRows;
    await stager.append(batch, signal);
  }
  await stager.close(signal);
  return { columns, rows: stager.rows };
}

function checkEventTimes(batch: arrow.RecordBatch, field: number, offset: number, column: string, bounds: EventTimeBounds): void {
  const read = timeMicrosReader(batch.data.children[field]!);
  for (let i = 0; i < batch.numRows; i++) {
    const micros = read(i);
    if (micros !== null) checkEventTime(column, offset + i, micros, bounds);
  }
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
