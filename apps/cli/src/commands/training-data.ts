import { stat } from "node:fs/promises";
import { dirname, extname, resolve } from "node:path";
import * as arrow from "apache-arrow";
import { arrowTypeOf } from "@granary/arrow";
import type { FeatureView } from "@granary/client";
import { ColumnRole } from "@granary/proto/metadata";
import { UsageError } from "../cli-error.js";
import type { CommandContext } from "../context.js";
import { formatThroughput, toJson } from "../output.js";
import { createProgress } from "../progress.js";
import { parseRef } from "../refs.js";
import { parseTimestampMicros } from "../value-parsing.js";

export interface TrainingDataOptions {
  readonly out?: string;
  readonly save?: boolean;
  readonly spine?: string;
  readonly format?: string;
  readonly start?: string;
  readonly end?: string;
  readonly untransformed?: boolean;
  readonly eventTimes?: boolean;
  readonly trainingHelpers?: boolean;
}

/**
 * `granary training-data <view[:version]> --out file.parquet`: point-in-time correct training data
 * streamed from the offline service into a Parquet (or CSV) file. `--save` stores it instead as a
 * new training dataset version of the catalogue (what the view's transformations are fitted on).
 */
export async function trainingDataCommand(ctx: CommandContext, viewText: string, options: TrainingDataOptions): Promise<void> {
  const ref = parseRef(viewText, "feature view");
  if (!options.out && !options.save) throw new UsageError("give --out <file> to write the rows, or --save to store them as a training dataset");
  const format = options.out ? outputFormat(options.out, options.format) : undefined;
  const start = timeOption(options.start, "--start");
  const end = timeOption(options.end, "--end");
  if (start && end && start >= end) throw new UsageError("--start must be before --end");
  if (options.spine && (start || end)) throw new UsageError("give either --spine or --start/--end: the spine names the rows itself");
  if (options.save && (options.eventTimes || options.trainingHelpers || options.untransformed))
    throw new UsageError("--save stores the view's columns as they are defined: leave out --untransformed, --event-times and --training-helpers");
  const out = options.out ? resolve(options.out) : undefined;
  if (out) await stat(dirname(out));

  const project = await ctx.project();
  const view = await project.getFeatureView(ref.name, ref.version);
  const spine = options.spine ? await (await import("../data/spine.js")).readSpine(options.spine, project, view) : undefined;
  if (options.save) {
    await saveDataset(ctx, view, { start, end, spine });
    return;
  }
  const { TableWriter } = await import("../data/table-writer.js");
  const writer = await TableWriter.open(out!, format!);
  const progress = createProgress(ctx.output, { label: `${view.name} v${view.version}` });
  const started = performance.now();
  try {
    const batches = view.trainingDataBatches({
      start,
      end,
      spine,
      untransformed: options.untransformed,
      includeEventTimes: options.eventTimes,
      includeTrainingHelpers: options.trainingHelpers,
      signal: ctx.signal,
    });
    for await (const batch of batches) {
      await writer.append(batch);
      progress.update(writer.rows, writer.rows);
    }
    progress.stop();
    await writer.finish(emptySchema(view, options));
  } finally {
    progress.stop();
    await writer.close();
  }
  const ms = performance.now() - started;
  if (ctx.json) {
    ctx.output.out(
      toJson({ feature_view: { name: view.name, version: view.version }, out, format, rows: writer.rows, columns: writer.columnCount, seconds: ms / 1000 }),
    );
  } else {
    ctx.output.out(`${formatThroughput(writer.rows, ms)}, ${writer.columnCount} columns written to ${options.out}`);
  }
}

/** Creates (materialises) a training dataset version and prints it. */
async function saveDataset(ctx: CommandContext, view: FeatureView, options: { start?: Date; end?: Date; spine?: arrow.Table }): Promise<void> {
  const started = performance.now();
  const dataset = await view.createTrainingDataset({ start: options.start, end: options.end, spine: options.spine, signal: ctx.signal });
  const ms = performance.now() - started;
  const rows = Number(dataset.rowCount);
  if (ctx.json) {
    ctx.output.out(
      toJson({
        feature_view: { name: view.name, version: view.version },
        training_dataset: dataset.version,
        rows,
        files: dataset.files.map((f) => ({ path: f.path, rows: Number(f.rowCount), bytes: Number(f.sizeBytes) })),
        seconds: ms / 1000,
      }),
    );
  } else {
    ctx.output.out(`training dataset ${dataset.version} of ${view.name} v${view.version}: ${formatThroughput(rows, ms)}`);
  }
  if (rows === 0)
    ctx.output.err(
      `granary: warning: training dataset ${dataset.version} has no rows (has the label group data in that range? granary ingest it first); transformations cannot be fitted on it`,
    );
}

export function outputFormat(file: string, given: string | undefined): "parquet" | "csv" {
  const format = (given ?? extname(file).slice(1)).toLowerCase();
  if (format === "parquet" || format === "pq") return "parquet";
  if (format === "csv") return "csv";
  throw new UsageError(
    given
      ? `--format ${given}: use parquet or csv`
      : `cannot tell the format of "${file}" from its extension: name it .parquet or .csv, or give --format parquet|csv`,
  );
}

function timeOption(text: string | undefined, name: string): Date | undefined {
  if (text === undefined) return undefined;
  const micros = parseTimestampMicros(text.trim());
  if (micros === undefined)
    throw new UsageError(`${name} "${text}" is not a time: write an ISO-8601 date or date-time such as 2025-01-31 or 2025-01-31T12:00:00Z`);
  return new Date(Number(micros / 1000n));
}

/** The columns of training data with no rows, from the view's output columns. */
function emptySchema(view: FeatureView, options: TrainingDataOptions): arrow.Schema {
  const roles = new Set([ColumnRole.FEATURE, ColumnRole.LABEL, ColumnRole.ON_DEMAND, ...(options.trainingHelpers ? [ColumnRole.TRAINING_HELPER] : [])]);
  const columns = view.definition.outputColumns.filter((c) => roles.has(c.role) && c.type);
  return new arrow.Schema(columns.map((c) => new arrow.Field(c.name, arrowTypeOf(c.type!), true)));
}
