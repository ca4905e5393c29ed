import { create } from "@bufbuild/protobuf";
import type { EntityRows } from "@granary/proto/online";
import { NamedColumnSchema, ValueStatus, type DataType, type NamedColumn } from "@granary/proto/types";
import type { CellValue } from "../store/row-codec.js";
import { ColumnBuilder } from "../vectors/column-builder.js";
import { columnReader } from "../vectors/column-reader.js";
import type { LookupResult } from "../vectors/encode-vectors.js";
import type { ViewPlan } from "../vectors/view-plan.js";

/** The model a vector was served for (GetModelFeatureVectors); zeros and "" for GetFeatureVectors. */
export interface ServedModel {
  readonly model: string;
  readonly modelVersion: number;
  readonly trainingDatasetVersion: number;
}

/** The columns of the vectors one request logged: names and types per part, shared by its rows. */
interface LogLayout {
  /** project, view, version, model, versions and the column names: rows with the same key go in one LogFeatures. */
  readonly key: string;
  readonly project: string;
  readonly view: { readonly name: string; readonly version: number };
  readonly served: ServedModel;
  readonly parts: readonly { readonly part: LogPart; readonly name: string; readonly type: DataType }[];
}

type LogPart = "servingKeys" | "untransformed" | "transformed" | "requestParameters";

/** One sampled vector: its values in the layout's column order, copied out of the lookup. */
interface LoggedRow {
  readonly layout: LogLayout;
  readonly values: readonly CellValue[];
  readonly micros: bigint;
}

/** Vectors of one view (and model) ready for one LogFeatures call. */
export interface LogBatch {
  readonly project: string;
  readonly view: { readonly name: string; readonly version: number };
  readonly served: ServedModel;
  readonly rowCount: number;
  /** The earliest serving time of the batch, µs. */
  readonly logTimeMicros: bigint;
  /** Sends tried so far (a batch the offline service could not be reached for is tried again). */
  attempts: number;
  readonly columns: Readonly<Record<LogPart, NamedColumn[]>>;
}

/**
 * The online service's own feature logging, request side: a sampled share of the vectors a lookup
 * served (FeatureLogging.sample_rate of the view) is copied into a bounded in-memory queue, from
 * which a flusher takes batches per view. `offer` does no I/O and awaits nothing; a full queue
 * drops the vectors and counts them.
 */
export class FeatureLogQueue {
  readonly #capacity: number;
  readonly #random: () => number;
  #rows: LoggedRow[] = [];
  /** Batches to send again (their rows count in #inFlight), taken before the new rows. */
  #retries: LogBatch[] = [];
  /** Rows taken by a flush and not yet acknowledged: they still use the queue's room. */
  #inFlight = 0;
  logged = 0;
  dropped = 0;

  constructor(capacity: number, random: () => number = Math.random) {
    this.#capacity = capacity;
    this.#random = random;
  }

  /** Vectors waiting, including those being sent now. */
  get queued(): number {
    return this.#rows.length + this.#inFlight;
  }

  /** Samples the vectors of a lookup of `plan` whose view logs online and queues copies of them. */
  offer(project: string, plan: ViewPlan, entities: EntityRows, result: LookupResult, served: ServedModel): void {
    const logging = plan.view.logging;
    if (!logging?.onlineEnabled) return;
    const rate = logging.sampleRate > 0 ? logging.sampleRate : 1;
    const n = result.rowCount;
    const picked: number[] = [];
    for (let r = 0; r < n; r++) if (rate >= 1 || this.#random() < rate) picked.push(r);
    if (picked.length === 0) return;
    const room = this.#capacity - this.queued;
    if (room < picked.length) {
      this.dropped += picked.length - Math.max(room, 0);
      if (room <= 0) return;
      picked.length = room;
    }
    const readers = layoutOf(project, plan, entities, result, served);
    const micros = BigInt(Date.now()) * 1000n;
    for (const r of picked) this.#rows.push({ layout: readers.layout, values: readers.read.map((read) => read(r)), micros });
  }

  /** Takes every queued vector as batches of at most `maxRows` per view; call `settle` with each batch's outcome. */
  take(maxRows: number): LogBatch[] {
    const rows = this.#rows;
    this.#rows = [];
    this.#inFlight += rows.length;
    const byKey = new Map<string, LoggedRow[]>();
    for (const row of rows) {
      const list = byKey.get(row.layout.key);
      if (list) list.push(row);
      else byKey.set(row.layout.key, [row]);
    }
    const batches: LogBatch[] = this.#retries;
    this.#retries = [];
    for (const list of byKey.values()) {
      for (let i = 0; i < list.length; i += maxRows) batches.push(new PendingBatch(list.slice(i, i + maxRows)));
    }
    return batches;
  }

  /** A batch to send again with the next flush; its rows keep their room in the queue meanwhile. */
  retry(batch: LogBatch): void {
    this.#retries.push(batch);
  }

  /** A batch was stored (ok) or refused or lost (its vectors count as dropped). */
  settle(batch: LogBatch, ok: boolean): void {
    this.#inFlight -= batch.rowCount;
    if (ok) this.logged += batch.rowCount;
    else this.dropped += batch.rowCount;
  }
}

/** Where each logged column's value of a row is read: the request's keys and parameters, the lookup's columns. */
function layoutOf(
  project: string,
  plan: ViewPlan,
  entities: EntityRows,
  result: LookupResult,
  served: ServedModel,
): { layout: LogLayout; read: ((row: number) => CellValue)[] } {
  const parts: { part: LogPart; name: string; type: DataType }[] = [];
  const read: ((row: number) => CellValue)[] = [];
  const n = result.rowCount;
  for (const column of entities.servingKeys) {
    const type = plan.servingKeyTypes.get(column.name);
    if (!type) continue;
    parts.push({ part: "servingKeys", name: column.name, type });
    read.push(columnReader(column.name, column.data, type, n, "serving key"));
  }
  const parameterTypes = new Map(plan.onDemand.flatMap((o) => [...o.parameters]));
  for (const column of entities.requestParameters) {
    const type = parameterTypes.get(column.name);
    if (!type) continue;
    parts.push({ part: "requestParameters", name: column.name, type });
    read.push(columnReader(column.name, column.data, type, n, "request parameter"));
  }
  for (const { name, builder } of result.untransformed ?? result.columns) {
    parts.push({ part: "untransformed", name, type: builder.type });
    read.push((r) => builder.get(r));
  }
  if (result.untransformed) {
    const plain = new Map(result.untransformed.map((c) => [c.name, c.builder]));
    for (const { name, builder } of result.columns) {
      if (plain.get(name) === builder) continue; // not transformed
      parts.push({ part: "transformed", name, type: builder.type });
      read.push((r) => builder.get(r));
    }
  }
  const view = { name: plan.view.name, version: plan.view.version };
  const key = [
    project,
    view.name,
    view.version,
    served.model,
    served.modelVersion,
    served.trainingDatasetVersion,
    ...parts.map((p) => `${p.part}:${p.name}`),
  ].join("\u0000");
  return { layout: { key, project, view, served, parts }, read };
}

/**
 * A batch whose columns are built when first read: the flusher builds one batch at a time, right
 * before sending it, so the event loop is never held longer than one batch's worth of copying.
 */
class PendingBatch implements LogBatch {
  readonly project: string;
  readonly view: { readonly name: string; readonly version: number };
  readonly served: ServedModel;
  readonly rowCount: number;
  readonly logTimeMicros: bigint;
  attempts = 0;
  #rows: readonly LoggedRow[] | undefined;
  #columns: Record<LogPart, NamedColumn[]> | undefined;

  constructor(rows: readonly LoggedRow[]) {
    const { layout } = rows[0]!;
    this.project = layout.project;
    this.view = layout.view;
    this.served = layout.served;
    this.rowCount = rows.length;
    let first = rows[0]!.micros;
    for (const row of rows) if (row.micros < first) first = row.micros;
    this.logTimeMicros = first;
    this.#rows = rows;
  }

  get columns(): Readonly<Record<LogPart, NamedColumn[]>> {
    if (!this.#columns) {
      this.#columns = columnsOf(this.#rows!);
      this.#rows = undefined;
    }
    return this.#columns;
  }
}

function columnsOf(rows: readonly LoggedRow[]): Record<LogPart, NamedColumn[]> {
  const { layout } = rows[0]!;
  const columns: Record<LogPart, NamedColumn[]> = { servingKeys: [], untransformed: [], transformed: [], requestParameters: [] };
  layout.parts.forEach(({ part, name, type }, c) => {
    const builder = new ColumnBuilder(type, rows.length);
    rows.forEach((row, r) => builder.set(r, row.values[c] ?? null));
    const data = builder.toColumnData();
    builder.statuses.forEach((s, r) => {
      if (s !== ValueStatus.PRESENT) data.nullIndexes.push(r);
    });
    columns[part].push(create(NamedColumnSchema, { name, data }));
  });
  return columns;
}
