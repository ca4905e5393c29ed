import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { basename } from "node:path";
import type * as arrow from "apache-arrow";
import { parse } from "csv-parse";
import type { PlainValue } from "@granary/cel";
import { CliError } from "../cli-error.js";
import { valueParser, ValueParseError } from "../value-parsing.js";
import type { DataSource } from "./data-source.js";
import { matchColumns, type GroupSchema } from "./match-columns.js";
import { recordBatchOf } from "./record-batch.js";

export interface CsvOptions {
  readonly batchRows: number;
  readonly delimiter?: string;
}

/**
 * A CSV file with a header row naming group columns, read as a stream: values converted to the
 * columns' types (empty cells are null), cut into record batches of `batchRows` rows. Progress is
 * measured in bytes of the file read.
 *
 * Records are taken from the parser's 'data' events, converted as they come, and the parser is
 * paused while a finished batch waits to be sent: an async iterator per record costs a promise and
 * an event-loop turn for each row, several times the parsing itself.
 */
export async function openCsv(file: string, group: GroupSchema, options: CsvOptions): Promise<DataSource> {
  const name = basename(file);
  const size = (await stat(file)).size;
  const delimiter = options.delimiter ?? ",";
  let bytesRead = 0;
  const input = createReadStream(file, { highWaterMark: 1 << 20 });
  input.on("data", (chunk) => (bytesRead += chunk.length));
  const parser = parse({ delimiter, bom: true, skip_empty_lines: true });
  input.on("error", (err) => parser.destroy(err));
  input.pipe(parser);
  const csvError = (err: unknown) =>
    err instanceof Error && "code" in err && typeof err.code === "string" && err.code.startsWith("CSV_") ? new CliError(`${name}: ${err.message}`) : err;

  const header = await new Promise<string[] | undefined>((resolve, reject) => {
    const onData = (record: string[]) => {
      parser.pause();
      cleanup();
      resolve(record);
    };
    const onEnd = () => (cleanup(), resolve(undefined));
    const onError = (err: unknown) => (cleanup(), reject(csvError(err)));
    const cleanup = () => {
      parser.off("data", onData);
      parser.off("end", onEnd);
      parser.off("error", onError);
    };
    parser.on("data", onData);
    parser.on("end", onEnd);
    parser.on("error", onError);
  }).catch((err: unknown) => {
    input.destroy();
    throw err;
  });
  if (!header) {
    input.destroy();
    throw new CliError(`${name} is empty: its first line must name the columns`);
  }
  const columns = matchColumns(
    header.map((h) => h.trim()),
    group,
    name,
  );
  const parsers = columns.map((c) => valueParser(c.type));

  async function* batches(): AsyncGenerator<arrow.RecordBatch> {
    const ready: arrow.RecordBatch[] = [];
    let values = columns.map(() => [] as (PlainValue | null)[]);
    let rows = 0;
    let records = 0;
    let ended = false;
    let failure: unknown;
    let wake: (() => void) | undefined;
    const notify = () => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    parser.on("data", (record: string[]) => {
      if (failure) return;
      records++;
      let c = 0;
      try {
        for (; c < parsers.length; c++) values[c]!.push(parsers[c]!(record[c]!));
      } catch (err) {
        failure = err instanceof ValueParseError ? { record: records, column: columns[c]!.name, message: err.message } : err;
        parser.pause();
        notify();
        return;
      }
      if (++rows === options.batchRows) {
        ready.push(recordBatchOf(columns, values));
        values = columns.map(() => []);
        rows = 0;
        parser.pause();
        notify();
      }
    });
    parser.on("end", () => {
      if (rows > 0) ready.push(recordBatchOf(columns, values));
      ended = true;
      notify();
    });
    parser.on("error", (err) => {
      failure ??= csvError(err);
      notify();
    });
    parser.resume();
    for (;;) {
      if (failure) {
        if (typeof failure === "object" && failure !== null && "column" in failure) {
          const f = failure as { record: number; column: string; message: string };
          const line = await lineOfRecord(file, delimiter, f.record);
          throw new CliError(`${name}:${line}: column "${f.column}": ${f.message}`);
        }
        throw failure;
      }
      const batch = ready.shift();
      if (batch) {
        yield batch;
        continue;
      }
      if (ended) return;
      parser.resume();
      await new Promise<void>((resolve) => (wake = resolve));
    }
  }

  return {
    columns,
    total: size,
    position: () => bytesRead,
    batches,
    async close() {
      input.destroy();
      parser.destroy();
    },
  };
}

/**
 * The line a record starts on (the header is record 0). Tracking lines while loading costs an
 * object per record, so the file is read again only when there is an error to point at.
 */
async function lineOfRecord(file: string, delimiter: string, index: number): Promise<number | string> {
  const parser = createReadStream(file).pipe(parse({ delimiter, bom: true, skip_empty_lines: true, info: true }));
  let i = 0;
  try {
    for await (const { info } of parser as AsyncIterable<{ info: { lines: number } }>) if (i++ === index) return info.lines;
  } finally {
    parser.destroy();
  }
  return `record ${index}`;
}
