import { extname } from "node:path";
import type * as arrow from "apache-arrow";
import { CliError, UsageError } from "../cli-error.js";
import type { CommandContext } from "../context.js";
import { openCsv } from "../data/csv-source.js";
import type { DataSource } from "../data/data-source.js";
import type { GroupSchema } from "../data/match-columns.js";
import { formatThroughput, toJson } from "../output.js";
import { createProgress } from "../progress.js";
import { parseRef } from "../refs.js";

export interface IngestOptions {
  readonly format?: string;
  readonly batchSize: number;
  readonly delimiter?: string;
}

export type InputFormat = "csv" | "parquet";

/** The format of an input file, from --format or its extension. */
export function inputFormat(file: string, given: string | undefined): InputFormat {
  const format = (given ?? extname(file).slice(1)).toLowerCase();
  if (format === "csv" || format === "tsv" || format === "txt") return "csv";
  if (format === "parquet" || format === "pq") return "parquet";
  throw new UsageError(
    given
      ? `--format ${given}: use csv or parquet`
      : `cannot tell the format of "${file}" from its extension: name it .csv or .parquet, or give --format csv|parquet`,
  );
}

/**
 * `granary ingest <group[:version]> <file>`: streams a CSV or Parquet file into a feature group
 * version as one commit, batch by batch, with a progress bar.
 */
export async function ingestCommand(ctx: CommandContext, groupText: string, file: string, options: IngestOptions): Promise<void> {
  const ref = parseRef(groupText, "feature group");
  const format = inputFormat(file, options.format);
  if (!(options.batchSize >= 1)) throw new UsageError("--batch-size must be 1 or more");
  const project = await ctx.project();
  const group = await project.getFeatureGroup(ref.name, ref.version);
  const schema: GroupSchema = group;
  const source = await open(format, file, schema, options);

  const progress = createProgress(ctx.output, { label: `${group.name} v${group.version}`, total: source.total });
  // The insert consumes the batches inside a gRPC stream, which reports a failure of its input as
  // its own; the reader's error is the one the user needs.
  let readError: unknown;
  let batchCount = 0;
  async function* batches(): AsyncGenerator<arrow.RecordBatch> {
    try {
      for await (const batch of source.batches()) {
        batchCount++;
        yield batch;
      }
      // Every batch is on its way: what remains is the server's commit.
      progress.phase("committing");
    } catch (err) {
      readError = err;
      throw err;
    }
  }

  const started = performance.now();
  let rowsSent = 0;
  let result;
  try {
    result = await group.insert(batches(), {
      signal: ctx.signal,
      onProgress: (p) => {
        rowsSent = p.rowsSent;
        progress.update(source.position(), p.rowsSent);
      },
    });
  } catch (err) {
    if (readError) throw readError;
    if (batchCount === 0 && err instanceof TypeError) throw new CliError(`${file} has no rows to ingest`);
    throw err;
  } finally {
    progress.stop();
    await source.close();
  }
  const ms = performance.now() - started;
  const report = result.validationReport;
  const failedRules = report && !report.success ? report.results.filter((r) => !r.success) : [];
  if (ctx.json) {
    ctx.output.out(
      toJson({
        feature_group: { name: group.name, version: group.version },
        rows: rowsSent,
        rows_inserted: result.rowsInserted,
        rows_updated: result.rowsUpdated,
        seconds: ms / 1000,
        commit: result.commitId.toString(),
        failed_rules: failedRules.map((r) => ({ rule: r.rule, column: r.column, unexpected: Number(r.unexpectedCount), message: r.message })),
      }),
    );
  } else {
    ctx.output.out(`${formatThroughput(rowsSent, ms)}, commit ${result.commitId}`);
  }
  for (const r of failedRules) {
    ctx.output.err(
      `granary: warning: validation rule "${r.rule}" on ${r.column}: ${r.unexpectedCount} of ${r.evaluatedCount} values unexpected${r.message ? ` (${r.message})` : ""}`,
    );
  }
}

async function open(format: InputFormat, file: string, group: GroupSchema, options: IngestOptions): Promise<DataSource> {
  if (format === "csv") {
    const delimiter = options.delimiter ?? (extname(file).toLowerCase() === ".tsv" ? "\t" : ",");
    return openCsv(file, group, { batchRows: options.batchSize, delimiter });
  }
  // DuckDB loads only for Parquet.
  const { openParquet } = await import("../data/parquet-source.js");
  return openParquet(file, group, { batchRows: options.batchSize });
}
