import { clone, create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { durationFromMs, timestampFromMs } from "@bufbuild/protobuf/wkt";
import * as arrow from "apache-arrow";
import { ColumnSchema, type Column } from "@granary/proto/types";
import {
  FeatureGroupSchema,
  SelectionMode,
  StatisticsConfigSchema,
  type CompactionStats,
  type FeatureGroup as FeatureGroupMessage,
  type Statistics,
  type ValidationReport,
} from "@granary/proto/metadata";
import { embeddingIndexMessages, type FeatureGroupSpec } from "./feature-group-spec.js";
import type { Services } from "./services.js";
import { batchesOf, ipcPayloads, recordBatchesOf, tableOf, type InsertProgress } from "./arrow-stream.js";
import { CatalogueSync } from "./catalogue-lag.js";
import { retryStream } from "./call-policy.js";
import { parseType, type ColumnSpec } from "./column-types.js";
import { getLineage, type LineageGraph, type LineageOptions } from "./lineage.js";
import { Query, typesOf, type FilterExpr } from "./query.js";
import { listValidationReports, type ValidationReportEntry } from "./validation-report.js";
import { tableFromRows, toValue, type FeatureValue, type Row } from "./values.js";
import { findNeighbors, type Neighbor, type NeighborOptions } from "./neighbors.js";

/** What an insert accepts: plain rows, an Arrow table, or record batches as they are produced. */
export type InsertData = readonly Row[] | arrow.Table | AsyncIterable<arrow.RecordBatch> | Iterable<arrow.RecordBatch>;

export interface InsertOptions {
  onProgress?: (progress: InsertProgress) => void;
  signal?: AbortSignal;
}

export interface InsertResult {
  readonly commitId: bigint;
  readonly rowsInserted: number;
  readonly rowsUpdated: number;
  /** The validation report when the group has rules (a WARN rule that broke leaves success false). */
  readonly validationReport: ValidationReport | undefined;
}

export interface ReadOptions {
  readonly columns?: readonly string[];
  readonly filter?: FilterExpr;
  /** Time travel: the group as it was at this ingestion time, or after this commit. */
  readonly asOf?: Date | bigint;
  readonly limit?: number;
  readonly signal?: AbortSignal;
}

/** A column appended to an existing group version: nullable, or with a default for existing rows. */
export interface AppendColumnSpec extends ColumnSpec {
  readonly defaultValue?: FeatureValue;
}

/** A feature group version: its schema, and the data calls on it (offline history, online rows). */
export class FeatureGroup {
  #message: FeatureGroupMessage;
  readonly #services: Services;
  readonly #sync = new CatalogueSync();

  constructor(services: Services, message: FeatureGroupMessage) {
    this.#services = services;
    this.#message = message;
  }

  get project(): string {
    return this.#message.project;
  }
  get name(): string {
    return this.#message.name;
  }
  get version(): number {
    return this.#message.version;
  }
  get columns(): readonly Column[] {
    return this.#message.columns;
  }
  get primaryKey(): readonly string[] {
    return this.#message.primaryKey;
  }
  get eventTime(): string {
    return this.#message.eventTime;
  }
  get onlineEnabled(): boolean {
    return this.#message.onlineEnabled;
  }
  /** The definition as the metadata service returned it. */
  get definition(): FeatureGroupMessage {
    return this.#message;
  }

  #ref() {
    return { name: this.name, version: this.version };
  }

  /**
   * Upserts a batch: one commit in the offline store (validation and statistics run there) and, for
   * online-enabled groups, the same rows in the online store.
   */
  async insert(data: InsertData, options: InsertOptions = {}): Promise<InsertResult> {
    const { table, totalRows } = this.#asBatches(data);
    // The offline service must know the group before the stream is spent on it.
    await this.#sync.call("offline", () => this.#probeOffline(options.signal));
    const header = { project: this.project, featureGroup: this.#ref() };
    const payloads = ipcPayloads(table, options.onProgress, totalRows);
    async function* requests() {
      yield { message: { case: "header" as const, value: header } };
      for await (const ipc of payloads) yield { message: { case: "chunk" as const, value: { ipc } } };
    }
    const res = await this.#services.offline.insert(requests(), this.#services.stream(options.signal));
    return { commitId: res.commitId, rowsInserted: Number(res.rowsInserted), rowsUpdated: Number(res.rowsUpdated), validationReport: res.validationReport };
  }

  /**
   * Deletes rows by primary key from both stores (a tombstone commit: later reads and joins no
   * longer see them; time travel to before it still does). With `erase` (GDPR), the keys' rows are
   * also removed from the files of every version before this answers: no read, at any time, sees
   * them again.
   */
  async deleteRows(
    keys: readonly Row[] | arrow.Table,
    options: { signal?: AbortSignal; erase?: boolean } = {},
  ): Promise<{ commitId: bigint; rowsDeleted: number }> {
    const keyColumns = this.columns.filter((c) => this.primaryKey.includes(c.name));
    const table =
      keys instanceof arrow.Table
        ? keys
        : tableFromRows(
            keyColumns,
            keys.map((r) => Object.fromEntries(this.primaryKey.map((k) => [k, r[k]]))),
          );
    await this.#sync.call("offline", () => this.#probeOffline(options.signal));
    const header = { project: this.project, featureGroup: this.#ref(), erase: options.erase ?? false };
    const payloads = ipcPayloads(batchesOf(table));
    async function* requests() {
      yield { message: { case: "header" as const, value: header } };
      for await (const ipc of payloads) yield { message: { case: "chunk" as const, value: { ipc } } };
    }
    const res = await this.#services.offline.deleteRows(requests(), this.#services.stream(options.signal));
    return { commitId: res.commitId, rowsDeleted: Number(res.rowsDeleted) };
  }

  /** The group's rows (latest per key and event time as committed), optionally as of a time or commit. */
  async read(options: ReadOptions = {}): Promise<arrow.Table> {
    return this.#sync.call("offline", () => tableOf(this.#readStream(options)));
  }

  /** As read(), batch by batch, for data larger than memory. */
  async *readBatches(options: ReadOptions = {}): AsyncGenerator<arrow.RecordBatch> {
    await this.#sync.call("offline", () => this.#probeOffline(options.signal));
    yield* recordBatchesOf(this.#readStream(options));
  }

  /** Rows committed between `start` (inclusive) and `end` (exclusive): incremental processing. */
  async readChanges(start: Date, end: Date, options: { columns?: readonly string[]; signal?: AbortSignal } = {}): Promise<arrow.Table> {
    const req = {
      project: this.project,
      featureGroup: this.#ref(),
      window: { start: timestampFromMs(start.getTime()), end: timestampFromMs(end.getTime()) },
      columns: [...(options.columns ?? [])],
    };
    return this.#sync.call("offline", () =>
      tableOf(retryStream(() => this.#services.offline.readChanges(req, this.#services.stream(options.signal)), this.#services.retry)),
    );
  }

  /** Adds nullable or defaulted columns to this version (other schema changes need a new version). */
  async appendFeatures(columns: readonly AppendColumnSpec[]): Promise<this> {
    const res = await this.#services.metadata.appendFeatures(
      {
        project: this.project,
        name: this.name,
        version: this.version,
        columns: columns.map((c) => {
          const type = parseType(c.type);
          return create(ColumnSchema, {
            name: c.name,
            type,
            description: c.description ?? "",
            defaultValue: c.defaultValue === undefined ? undefined : toValue(c.defaultValue, type),
          });
        }),
      },
      this.#services.unary(),
    );
    this.#message = res.featureGroup!;
    return this;
  }

  /**
   * Changes what may change on an existing version: description, tags, custom metadata,
   * statistics config, validation rules, online TTL (anything else needs a new version). Guarded by
   * the version's etag: a concurrent change in between fails with ABORTED instead of being lost.
   */
  async update(
    changes: Pick<
      FeatureGroupSpec,
      "description" | "tags" | "customMetadata" | "statistics" | "validationRules" | "onlineTtlMs" | "offlineRetentionMs" | "embeddingIndexes"
    >,
  ): Promise<this> {
    const next = clone(FeatureGroupSchema, this.#message);
    const paths: string[] = [];
    if (changes.description !== undefined) ((next.description = changes.description), paths.push("description"));
    if (changes.tags !== undefined) ((next.tags = [...changes.tags]), paths.push("tags"));
    if (changes.customMetadata !== undefined) ((next.customMetadata = { ...changes.customMetadata }), paths.push("custom_metadata"));
    if (changes.statistics !== undefined)
      ((next.statisticsConfig = create(StatisticsConfigSchema, { enabled: true, ...changes.statistics })), paths.push("statistics_config"));
    if (changes.validationRules !== undefined) ((next.validationRules = [...changes.validationRules]), paths.push("validation_rules"));
    if (changes.onlineTtlMs !== undefined)
      ((next.onlineTtl = changes.onlineTtlMs > 0 ? durationFromMs(changes.onlineTtlMs) : undefined), paths.push("online_ttl"));
    if (changes.offlineRetentionMs !== undefined)
      ((next.offlineRetention = changes.offlineRetentionMs > 0 ? durationFromMs(changes.offlineRetentionMs) : undefined), paths.push("offline_retention"));
    if (changes.embeddingIndexes !== undefined) ((next.embeddingIndexes = embeddingIndexMessages(changes.embeddingIndexes)), paths.push("embedding_indexes"));
    if (paths.length === 0) return this;
    const res = await this.#services.metadata.updateFeatureGroup({ featureGroup: next, updateMask: { paths } }, this.#services.unary());
    this.#message = res.featureGroup!;
    return this;
  }

  /** Descriptive statistics of the latest commit (computed on insert when the group enables them); undefined when none were computed. */
  async statistics(options: { signal?: AbortSignal } = {}): Promise<Statistics | undefined> {
    try {
      const res = await this.#services.metadata.getStatistics(
        { project: this.project, subject: { kind: { case: "featureGroup", value: this.#ref() } } },
        this.#services.unary(options.signal),
      );
      return res.statistics;
    } catch (err) {
      // The metadata service answers NOT_FOUND for a subject with no statistics yet: that is "none", not a failure.
      if (ConnectError.from(err).code === Code.NotFound) return undefined;
      throw err;
    }
  }

  /** The reports of this version's validation rules, one per insert, newest first (default: the last 20). */
  async validationReports(options: { limit?: number; signal?: AbortSignal } = {}): Promise<ValidationReportEntry[]> {
    return listValidationReports(this.#services, this.project, this.#ref(), options);
  }

  /** What was built from this group (views, their training datasets, models trained on them); see LineageOptions. */
  async lineage(options: LineageOptions = {}): Promise<LineageGraph> {
    return getLineage(this.#services, this.project, { kind: "featureGroup", ...this.#ref() }, options);
  }

  /** Computes statistics of the group's current data now. */
  async computeStatistics(): Promise<Statistics | undefined> {
    const res = await this.#sync.call("offline", () =>
      this.#services.offline.computeStatistics({ project: this.project, featureGroup: this.#ref() }, this.#services.unary()),
    );
    return res.statistics;
  }

  /**
   * Compacts the group's offline files now (the service also does it in the background): small
   * files merged, rows past the group's offline retention removed; reads see the same rows.
   */
  async compact(options: { signal?: AbortSignal } = {}): Promise<{ commitId: bigint; stats: CompactionStats | undefined; seconds: number }> {
    const res = await this.#sync.call("offline", () =>
      // A compaction rewrites the group's files: the long deadline of streams, not a unary call's.
      this.#services.offline.compact({ project: this.project, featureGroup: this.#ref() }, this.#services.stream(options.signal)),
    );
    return { commitId: res.commitId, stats: res.stats, seconds: res.seconds };
  }

  /** Every column: the start of a feature-view query. */
  /**
   * The `k` rows whose embedding in `column` (an indexed embedding column, see embeddingIndexes in
   * the group's spec) is nearest `query`, nearest first, from the online store.
   */
  async findNeighbors(column: string, query: ArrayLike<number>, options: NeighborOptions = {}): Promise<Neighbor[]> {
    const types = typesOf(this.columns);
    return this.#sync.call("online", () =>
      findNeighbors(
        this.#services,
        { project: this.project, ref: { case: "featureGroup", value: { name: this.name, version: this.version } }, keyType: types, columnTypes: types },
        column,
        query,
        options,
      ),
    );
  }

  selectAll(): Query {
    return Query.of(this, SelectionMode.ALL);
  }
  /** These columns only. */
  select(columns: readonly string[]): Query {
    return Query.of(this, SelectionMode.INCLUDE, columns);
  }
  /** Every column but these. */
  selectExcept(columns: readonly string[]): Query {
    return Query.of(this, SelectionMode.EXCEPT, columns);
  }
  /** Every column but the primary key and event time. */
  selectFeatures(): Query {
    return this.selectExcept([...this.primaryKey, ...(this.eventTime ? [this.eventTime] : [])]);
  }

  #readStream(options: ReadOptions) {
    const asOf =
      options.asOf === undefined
        ? { case: undefined }
        : options.asOf instanceof Date
          ? { case: "asOfTime" as const, value: timestampFromMs(options.asOf.getTime()) }
          : { case: "asOfCommit" as const, value: options.asOf };
    const req = {
      project: this.project,
      featureGroup: this.#ref(),
      columns: [...(options.columns ?? [])],
      filter: options.filter?.toMessage(typesOf(this.columns)),
      asOf,
      limit: BigInt(options.limit ?? 0),
    };
    return retryStream(() => this.#services.offline.read(req, this.#services.stream(options.signal)), this.#services.retry);
  }

  async #probeOffline(signal?: AbortSignal): Promise<void> {
    for await (const _ of this.#readStream({ limit: 1, columns: this.primaryKey, signal })) {
      // Reading one row proves the service knows the group.
    }
  }

  #asBatches(data: InsertData): { table: Iterable<arrow.RecordBatch> | AsyncIterable<arrow.RecordBatch>; totalRows: number | undefined } {
    if (data instanceof arrow.Table) return { table: batchesOf(data), totalRows: data.numRows };
    if (Array.isArray(data)) {
      if (data.length === 0) throw new TypeError("insert: no rows given");
      const table = tableFromRows(this.columns, data as readonly Row[]);
      return { table: batchesOf(table, 16_384), totalRows: table.numRows };
    }
    return { table: data as AsyncIterable<arrow.RecordBatch>, totalRows: undefined };
  }
}
