import { clone } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type * as arrow from "apache-arrow";
import {
  ColumnRole,
  DatasetSplit,
  FeatureViewSchema,
  type FeatureView as FeatureViewMessage,
  type ServingKey,
  type SplitSpec,
  type TrainingDataset,
} from "@granary/proto/metadata";
import type { BatchDataQuery, TrainingDataQuery } from "@granary/proto/offline";
import { OnlineService, type EntityRows, type FeatureVectorOptions, type FeatureVectors } from "@granary/proto/online";
import type { DataType, NamedColumn } from "@granary/proto/types";
import type { Services } from "./services.js";
import { batchesOf, ipcPayloads, recordBatchesOf, tableOf } from "./arrow-stream.js";
import { split } from "./builders.js";
import { featuresAndLabels } from "./features-and-labels.js";
import { getLineage, type LineageGraph, type LineageOptions } from "./lineage.js";
import { CatalogueSync } from "./catalogue-lag.js";
import { retryStream } from "./call-policy.js";
import type { FilterExpr } from "./query.js";
import { namedColumn, type FeatureValue, type Row } from "./values.js";
import { checkViewConsistency, type ConsistencyOptions, type ConsistencyResult } from "./consistency-check.js";
import { vectorBatch, vectorBatchOfMessage, withStatuses, type FeatureVectorBatch, type VectorsWithStatus } from "./feature-vector-batch.js";
import { callWithRawField } from "./raw-field-call.js";
import { computeDrift, monitoringReports, setDriftThresholds, type ComputeDriftOptions, type DriftReport, type DriftThresholdSettings } from "./drift.js";
import { enableLogging, loggingGroup, logVectors, readLog, type EnableLoggingOptions, type LogOptions, type LogResult } from "./feature-logging.js";
import type { FeatureGroup } from "./feature-group.js";
import { findNeighbors, type Neighbor, type ViewNeighborOptions } from "./neighbors.js";

/** Which rows training or batch data is computed for: a time range of the label group, or given entity rows. */
export interface SpineOptions {
  /** Label-group rows with event time at or after this. */
  readonly start?: Date;
  /** … and before this. */
  readonly end?: Date;
  /** Entity rows (keys, event times, passed features, request parameters) to compute features for. */
  readonly spine?: arrow.Table;
}

export interface TrainingDataOptions extends SpineOptions {
  /** Extra filter on top of the view's. */
  readonly filter?: FilterExpr;
  /** Without model-dependent transformations. */
  readonly untransformed?: boolean;
  readonly includeEventTimes?: boolean;
  readonly includeTrainingHelpers?: boolean;
  readonly signal?: AbortSignal;
}

export interface SplitOptions extends TrainingDataOptions {
  /** Seed of the random split (same seed, same split). */
  readonly seed?: number;
  readonly description?: string;
}

/** Windows of a split by event time; a window's open end is unbounded. */
export interface TimeSplitOptions {
  readonly trainStart?: Date;
  readonly trainEnd?: Date;
  readonly testStart?: Date;
  readonly testEnd?: Date;
}

/**
 * The splits of a stored training dataset, whole (`train`, `test`) and, as hsfs's train_test_split
 * returns them, apart: `x*` every column but the view's labels, `y*` the labels (no columns when the
 * view has none). All are Arrow tables; x and y share the whole table's buffers.
 */
export interface TrainTestSplit {
  readonly train: arrow.Table;
  readonly test: arrow.Table;
  readonly xTrain: arrow.Table;
  readonly xTest: arrow.Table;
  readonly yTrain: arrow.Table;
  readonly yTest: arrow.Table;
}

export interface TrainValidationTestSplit extends TrainTestSplit {
  readonly validation: arrow.Table;
  readonly xValidation: arrow.Table;
  readonly yValidation: arrow.Table;
}

export interface BatchDataOptions extends SpineOptions {
  /** Whose statistics parameterise the model-dependent transformations (default: the latest dataset). */
  readonly trainingDatasetVersion?: number;
  readonly untransformed?: boolean;
  readonly includeInferenceHelpers?: boolean;
  readonly signal?: AbortSignal;
}

/** What every online lookup takes, one entry or many. */
export interface LookupOptions {
  /** Whose statistics parameterise the model-dependent transformations (default: the latest dataset). */
  readonly trainingDatasetVersion?: number;
  readonly untransformed?: boolean;
  readonly includeInferenceHelpers?: boolean;
  /** Also return when each entity's row of each feature group was written (FeatureVectorBatch.eventTimes). */
  readonly includeEventTimes?: boolean;
  /**
   * Read your writes across replicas: the logSequence a write returned. A replica that has not
   * applied the write log that far yet answers UNAVAILABLE after a short wait, and the call is
   * retried (on another replica behind a load balancer).
   */
  readonly minLogSequence?: bigint;
  readonly signal?: AbortSignal;
}

/** A lookup of one entry: passed features and request parameters are one object, as the entry is. */
export interface VectorOptions extends LookupOptions {
  /** Features the caller already has (they win over stored values). */
  readonly passedFeatures?: Row;
  /** Inputs of on-demand features. */
  readonly requestParameters?: Row;
}

/**
 * A lookup of many entries: passed features and request parameters are an array with one object per
 * entry, in the entries' order, as the entries are (undefined or {} for an entry with none).
 */
export interface VectorsOptions extends LookupOptions {
  readonly passedFeatures?: readonly (Row | undefined)[];
  readonly requestParameters?: readonly (Row | undefined)[];
}

/** A feature view version: training and batch data from the offline store, vectors from the online store. */
export class FeatureView {
  #message: FeatureViewMessage;
  readonly #services: Services;
  readonly #sync = new CatalogueSync();

  constructor(services: Services, message: FeatureViewMessage) {
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
  /** The label columns as the view outputs them (named as in training data, join prefixes included). */
  get labels(): readonly string[] {
    return this.#message.outputColumns.filter((c) => c.role === ColumnRole.LABEL).map((c) => c.name);
  }
  /** The keys an online caller supplies, as Hopsworks' `fv.serving_keys`. */
  get servingKeys(): readonly ServingKey[] {
    return this.#message.servingKeys;
  }
  /** Output columns in order (features, labels, on-demand features, helpers). */
  get columns(): readonly string[] {
    return this.#message.outputColumns.map((c) => c.name);
  }
  /** Output columns that are model inputs (not labels or helpers). */
  get featureNames(): readonly string[] {
    return this.#message.outputColumns.filter((c) => c.role === ColumnRole.FEATURE || c.role === ColumnRole.ON_DEMAND).map((c) => c.name);
  }
  get definition(): FeatureViewMessage {
    return this.#message;
  }

  #ref() {
    return { name: this.name, version: this.version };
  }

  #inputs: { types: Map<string, DataType>; paramTypes: Map<string, DataType> } | undefined;

  /** Types of passed features and request parameters, built once per definition (lookups are the hot path). */
  #inputTypes() {
    this.#inputs ??= {
      types: new Map<string, DataType>(this.#message.outputColumns.map((c) => [c.name, c.type!])),
      paramTypes: new Map<string, DataType>(this.#message.onDemandFeatures.flatMap((f) => f.requestParameters.map((p) => [p.name, p.type!] as const))),
    };
    return this.#inputs;
  }

  readonly #columnType = (name: string) => this.#message.outputColumns.find((c) => c.name === name || c.sourceColumn === name)?.type;

  /** Changes the description or tags of this version (its query and outputs are fixed: a new version changes those). */
  async update(changes: { description?: string; tags?: readonly string[] }): Promise<this> {
    const next = clone(FeatureViewSchema, this.#message);
    const paths: string[] = [];
    if (changes.description !== undefined) ((next.description = changes.description), paths.push("description"));
    if (changes.tags !== undefined) ((next.tags = [...changes.tags]), paths.push("tags"));
    if (paths.length === 0) return this;
    const res = await this.#services.metadata.updateFeatureView({ featureView: next, updateMask: { paths } }, this.#services.unary());
    this.#message = res.featureView!;
    this.#inputs = undefined;
    return this;
  }

  /**
   * The groups this view reads and what was built from it (training datasets, models); with
   * `trainingDatasetVersion`, the lineage of that dataset instead.
   */
  async lineage(options: LineageOptions & { trainingDatasetVersion?: number } = {}): Promise<LineageGraph> {
    const node =
      options.trainingDatasetVersion === undefined
        ? ({ kind: "featureView", ...this.#ref() } as const)
        : ({ kind: "trainingDataset", ...this.#ref(), datasetVersion: options.trainingDatasetVersion } as const);
    return getLineage(this.#services, this.project, node, options);
  }

  // ---- training data ----

  /** Point-in-time correct training data, computed now and not stored. */
  async trainingData(options: TrainingDataOptions = {}): Promise<arrow.Table> {
    return this.#sync.call("offline", () => tableOf(this.#trainingStream(options, undefined)));
  }

  /** As trainingData(), batch by batch as the server streams them. */
  async *trainingDataBatches(options: TrainingDataOptions = {}): AsyncGenerator<arrow.RecordBatch> {
    yield* this.#syncedBatches(() => recordBatchesOf(this.#trainingStream(options, undefined)));
  }

  /** Creates a stored training dataset (reproducible: it records the commits it read) and returns its record. */
  async createTrainingDataset(options: TrainingDataOptions & { split?: SplitSpec } = {}): Promise<TrainingDataset> {
    const res = await this.#sync.call("offline", () =>
      this.#services.offline.createTrainingDataset(this.#requests(this.#query(options, options.split), options.spine), this.#services.stream(options.signal)),
    );
    return res.trainingDataset!;
  }

  /**
   * A stored training dataset split into train and test, and both splits: at random (`testSize`,
   * `seed`), or by the label's event time (`trainStart`, `trainEnd`, `testStart`, `testEnd`, as
   * Hopsworks' time-series splits). Each split comes whole and as features and labels apart:
   * `const { xTrain, xTest, yTrain, yTest } = await fv.trainTestSplit({ testSize: 0.2 })`.
   */
  async trainTestSplit(options: SplitOptions & ({ testSize?: number } | TimeSplitOptions) = {}): Promise<TrainTestSplit & { version: number }> {
    let spec: SplitSpec;
    if ("testStart" in options || "trainEnd" in options) {
      const o = options as TimeSplitOptions;
      spec = split.time({ train: { start: o.trainStart, end: o.trainEnd ?? o.testStart }, test: { start: o.testStart ?? o.trainEnd, end: o.testEnd } });
    } else {
      const test = (options as { testSize?: number }).testSize ?? 0.2;
      checkFraction("testSize", test);
      spec = randomSplit(options.seed, 1 - test, 0, test);
    }
    const dataset = await this.createTrainingDataset({ ...options, split: spec });
    return { version: dataset.version, ...(await this.getTrainTestSplit(dataset.version, options)) };
  }

  /** A stored training dataset with a random train/validation/test split. */
  async trainValidationTestSplit(
    options: SplitOptions & { validationSize?: number; testSize?: number } = {},
  ): Promise<TrainValidationTestSplit & { version: number }> {
    const validation = options.validationSize ?? 0.1;
    const test = options.testSize ?? 0.2;
    checkFraction("validationSize", validation);
    checkFraction("testSize", test);
    if (validation + test >= 1) throw new RangeError("validationSize + testSize must be below 1");
    const dataset = await this.createTrainingDataset({ ...options, split: randomSplit(options.seed, 1 - validation - test, validation, test) });
    const [train, val, testTable] = await Promise.all(
      [DatasetSplit.TRAIN, DatasetSplit.VALIDATION, DatasetSplit.TEST].map((s) => this.#readDataset(dataset.version, s, options)),
    );
    const { x: xValidation, y: yValidation } = featuresAndLabels(val!, this.labels);
    return { version: dataset.version, ...this.#apart(train!, testTable!), validation: val!, xValidation, yValidation };
  }

  /** The splits of a stored training dataset, exactly as they were created. */
  async getTrainTestSplit(version: number, options: { untransformed?: boolean; signal?: AbortSignal } = {}): Promise<TrainTestSplit> {
    const [train, test] = await Promise.all([this.#readDataset(version, DatasetSplit.TRAIN, options), this.#readDataset(version, DatasetSplit.TEST, options)]);
    return this.#apart(train!, test!);
  }

  /** Each split whole and as x (features) and y (the view's labels). */
  #apart(train: arrow.Table, test: arrow.Table): TrainTestSplit {
    const tr = featuresAndLabels(train, this.labels);
    const te = featuresAndLabels(test, this.labels);
    return { train, test, xTrain: tr.x, xTest: te.x, yTrain: tr.y, yTest: te.y };
  }

  /** A stored training dataset's rows (every split). */
  async getTrainingDataset(version: number, options: { untransformed?: boolean; signal?: AbortSignal } = {}): Promise<arrow.Table> {
    return this.#readDataset(version, DatasetSplit.UNSPECIFIED, options);
  }

  /** The stored training datasets of this view version. */
  async trainingDatasets(): Promise<TrainingDataset[]> {
    const res = await this.#services.metadata.listTrainingDatasets({ project: this.project, featureView: this.#ref(), pageSize: 1000 }, this.#services.unary());
    return res.trainingDatasets;
  }

  // ---- batch inference ----

  /** Features for batch inference, transformed with a training dataset's statistics. With no range or spine: the latest row per key. */
  async getBatchData(options: BatchDataOptions = {}): Promise<arrow.Table> {
    return this.#sync.call("offline", () => tableOf(this.#batchStream(options)));
  }

  async *getBatchDataBatches(options: BatchDataOptions = {}): AsyncGenerator<arrow.RecordBatch> {
    yield* this.#syncedBatches(() => recordBatchesOf(this.#batchStream(options)));
  }

  /** A batch stream whose opening (up to its first batch) gets the catalogue-lag retry of a handle's first call. */
  async *#syncedBatches(open: () => AsyncIterable<arrow.RecordBatch>): AsyncGenerator<arrow.RecordBatch> {
    const { iterator, first } = await this.#sync.call("offline", async () => {
      const iterator = open()[Symbol.asyncIterator]();
      return { iterator, first: await iterator.next() };
    });
    for (let r = first; !r.done; r = await iterator.next()) yield r.value;
  }

  // ---- training/serving skew ----

  /**
   * Compares this view's online vectors with its point-in-time rows offline, for a sample of
   * entities (or the given ones), after the same on-demand features and (with a model)
   * transformations. `consistent` is false when any compared value differs.
   */
  async checkConsistency(options: ConsistencyOptions = {}): Promise<ConsistencyResult> {
    return this.#sync.call("offline", () => checkViewConsistency(this.#services, this.#message, options));
  }

  // ---- online ----

  /** One feature vector from the online store, keyed by the view's serving keys; values in the view's column order. */
  async getFeatureVector(entry: Row, options: VectorOptions = {}): Promise<Row> {
    const batch = await this.getFeatureVectorBatch([entry], {
      ...options,
      passedFeatures: one(options.passedFeatures, "passedFeatures"),
      requestParameters: one(options.requestParameters, "requestParameters"),
    });
    return batch.row(0);
  }

  /** A batch of feature vectors in one call; a key with no row gives nulls, never an error. */
  async getFeatureVectors(entries: readonly Row[], options: VectorsOptions = {}): Promise<Row[]> {
    return (await this.getFeatureVectorBatch(entries, options)).rows as Row[];
  }

  /** As getFeatureVectors(), with each value's status. */
  async getFeatureVectorsWithStatus(entries: readonly Row[], options: VectorsOptions = {}): Promise<VectorsWithStatus> {
    return withStatuses(await this.getFeatureVectorBatch(entries, options));
  }

  /**
   * As getFeatureVectors(), column by column: numeric columns are typed arrays read straight from
   * the response, and row objects are built only when `rows` or `row(i)` is read.
   */
  async getFeatureVectorBatch(entries: readonly Row[], options: VectorsOptions = {}): Promise<FeatureVectorBatch> {
    const req = {
      project: this.project,
      featureView: this.#ref(),
      entities: this.entityRows(entries, options),
      options: vectorOptions(options),
    };
    // Field 1 of GetFeatureVectorsResponse is the FeatureVectors, read into typed arrays (vector-wire.ts).
    const { onlineTransport, unary } = this.#services;
    const res = await this.#sync.call("online", () => callWithRawField(onlineTransport, OnlineService.method.getFeatureVectors, req, unary(options.signal), 1));
    return vectorBatch(res.raw, entries.length);
  }

  /**
   * Similarity search through this view: the `k` entities whose embedding in output column `column`
   * (filled by a group with an index on it) is nearest `query`, keyed by the view's serving keys,
   * with their feature vectors in the same call when `includeVectors`.
   */
  async findNeighbors(column: string, query: ArrayLike<number>, options: ViewNeighborOptions = {}): Promise<Neighbor[]> {
    const keyTypes = new Map(this.servingKeys.map((k) => [k.name, k.type]));
    return this.#sync.call("online", () =>
      findNeighbors(
        this.#services,
        { project: this.project, ref: { case: "featureView", value: this.#ref() }, keyType: (name) => keyTypes.get(name), columnTypes: this.#columnType },
        column,
        query,
        options,
      ),
    );
  }

  /** The request rows of an online lookup of this view (also what GetModelFeatureVectors takes). */
  entityRows(entries: readonly Row[], options: Pick<VectorsOptions, "passedFeatures" | "requestParameters"> = {}): EntityRows {
    const passed = perEntry(options.passedFeatures, entries.length, "passedFeatures");
    const params = perEntry(options.requestParameters, entries.length, "requestParameters");
    const keys: NamedColumn[] = [];
    for (const key of this.servingKeys) {
      const values = entries.map((e) => e[key.name]);
      if (values.every((v) => v === undefined)) {
        if (key.required)
          throw new TypeError(
            `serving key "${key.name}" is missing: give ${this.servingKeys
              .filter((k) => k.required)
              .map((k) => k.name)
              .join(", ")}`,
          );
        continue;
      }
      keys.push(namedColumn(key.name, key.type!, values));
    }
    const unknown = Object.keys(entries[0] ?? {}).filter((k) => !this.servingKeys.some((s) => s.name === k));
    if (unknown.length > 0)
      throw new TypeError(`"${unknown[0]}" is not a serving key of view "${this.name}" (serving keys: ${this.servingKeys.map((k) => k.name).join(", ")})`);
    const { types, paramTypes } = this.#inputTypes();
    const columnsOf = (rows: readonly Row[] | undefined, typeOf: Map<string, DataType>, what: string) => {
      if (!rows) return [];
      const names = [...new Set(rows.flatMap((r) => Object.keys(r)))];
      return names.map((name) => {
        const type = typeOf.get(name);
        if (!type) throw new TypeError(`${what} "${name}" is not in view "${this.name}"`);
        return namedColumn(
          name,
          type,
          rows.map((r) => r[name]),
        );
      });
    };
    return {
      $typeName: "granary.online.v1.EntityRows",
      rowCount: entries.length,
      servingKeys: keys,
      passedFeatures: columnsOf(passed, types, "passed feature"),
      requestParameters: columnsOf(params, paramTypes, "request parameter"),
    };
  }

  // ---- internals ----

  #query(options: TrainingDataOptions, split: SplitSpec | undefined): TrainingDataQuery {
    return {
      $typeName: "granary.offline.v1.TrainingDataQuery",
      project: this.project,
      featureView: { $typeName: "granary.types.v1.FeatureViewRef", ...this.#ref() },
      spine: spineOf(options),
      extraFilter: options.filter?.toMessage(this.#columnType),
      split,
      untransformed: options.untransformed ?? false,
      includeEventTimes: options.includeEventTimes ?? false,
      includeTrainingHelpers: options.includeTrainingHelpers ?? false,
    };
  }

  /** The request stream of a training or batch call: the query, then the spine's Arrow IPC stream when one is given. */
  async *#requests<Q extends TrainingDataQuery | BatchDataQuery>(query: Q, spine?: arrow.Table) {
    yield { message: { case: "query" as const, value: query } };
    if (spine) for await (const ipc of ipcPayloads(batchesOf(spine))) yield { message: { case: "spineChunk" as const, value: { ipc } } };
  }

  #trainingStream(options: TrainingDataOptions, split: SplitSpec | undefined) {
    return this.#services.offline.getTrainingData(this.#requests(this.#query(options, split), options.spine), this.#services.stream(options.signal));
  }

  #batchStream(options: BatchDataOptions) {
    const spine = spineOf(options);
    const query: BatchDataQuery = {
      $typeName: "granary.offline.v1.BatchDataQuery",
      project: this.project,
      featureView: { $typeName: "granary.types.v1.FeatureViewRef", ...this.#ref() },
      selection: spine ? { case: "spine", value: spine } : { case: "latest", value: true },
      trainingDatasetVersion: options.trainingDatasetVersion ?? 0,
      untransformed: options.untransformed ?? false,
      includeInferenceHelpers: options.includeInferenceHelpers ?? false,
    };
    return this.#services.offline.getBatchData(this.#requests(query, options.spine), this.#services.stream(options.signal));
  }

  // Drift monitoring (docs/monitoring.md): compare logged vectors with the training data or an earlier window.

  /** Computes (and stores) the drift of this version's logged vectors in `window` against its training data or an earlier window. */
  computeDrift(options: ComputeDriftOptions): Promise<DriftReport> {
    return computeDrift(this.#services, this.project, this.#ref(), options);
  }

  /** This version's stored drift reports, newest first. */
  monitoringReports(options: { limit?: number; signal?: AbortSignal } = {}): Promise<DriftReport[]> {
    return monitoringReports(this.#services, this.project, this.#ref(), options);
  }

  /** Replaces this version's drift thresholds (the default ones and per-feature ones). */
  async setDriftThresholds(settings: DriftThresholdSettings): Promise<this> {
    this.#message = await setDriftThresholds(this.#services, this.#message, settings);
    this.#inputs = undefined;
    return this;
  }

  // Feature and prediction logging (docs/feature-logging.md): the vectors served and what the model predicted from them.

  /** Creates this version's logging group ("<view>_<version>_logging") if needed and sets whether the online service logs what it serves (unset options keep the current setting). */
  async enableLogging(options: EnableLoggingOptions = {}): Promise<this> {
    this.#message = await enableLogging(this.#services, this.#message, options);
    this.#inputs = undefined;
    return this;
  }

  /**
   * Logs served vectors (what getFeatureVectors returned, or records by column name) with the
   * predictions made from them: one number per vector, or one record per vector keyed by label.
   */
  log(vectors: readonly Row[], predictions?: readonly (number | Row | null)[], options: LogOptions = {}): Promise<LogResult> {
    return logVectors(this.#services, this.#message, vectors, predictions, options);
  }

  /** The logged vectors with log_time in [start, end), as an Arrow table. */
  readLog(options: { start?: Date; end?: Date; signal?: AbortSignal } = {}): Promise<arrow.Table> {
    return readLog(this.#services, this.#message, options);
  }

  /** The logging feature group of this version (read it, use it as a training spine). */
  loggingGroup(): Promise<FeatureGroup> {
    return loggingGroup(this.#services, this.#message);
  }

  #readDataset(version: number, split: DatasetSplit, options: { untransformed?: boolean; signal?: AbortSignal }): Promise<arrow.Table> {
    const req = { project: this.project, featureView: this.#ref(), version, split, untransformed: options.untransformed ?? false };
    return tableOf(retryStream(() => this.#services.offline.readTrainingDataset(req, this.#services.stream(options.signal)), this.#services.retry));
  }
}

function spineOf(options: SpineOptions) {
  if (options.spine) return { $typeName: "granary.offline.v1.Spine" as const, kind: { case: "streamed" as const, value: true } };
  if (options.start || options.end) {
    return {
      $typeName: "granary.offline.v1.Spine" as const,
      kind: {
        case: "eventTimeRange" as const,
        value: {
          $typeName: "granary.types.v1.TimeRange" as const,
          start: options.start ? timestampFromMs(options.start.getTime()) : undefined,
          end: options.end ? timestampFromMs(options.end.getTime()) : undefined,
        },
      },
    };
  }
  return undefined;
}

function randomSplit(seed: number | undefined, train: number, validation: number, test: number): SplitSpec {
  return {
    $typeName: "granary.metadata.v1.SplitSpec",
    kind: { case: "random", value: { $typeName: "granary.metadata.v1.RandomSplit", seed: BigInt(seed ?? 42), train, validation, test } },
  };
}

function checkFraction(name: string, v: number): void {
  if (!(v > 0 && v < 1)) throw new RangeError(`${name} must be between 0 and 1 (exclusive), got ${v}`);
}

function vectorOptions(options: LookupOptions): FeatureVectorOptions {
  return {
    $typeName: "granary.online.v1.FeatureVectorOptions",
    untransformed: options.untransformed ?? false,
    includeEventTimes: options.includeEventTimes ?? false,
    includeInferenceHelpers: options.includeInferenceHelpers ?? false,
    trainingDatasetVersion: options.trainingDatasetVersion ?? 0,
    minLogSequence: options.minLogSequence ?? 0n,
  };
}

/** A GetFeatureVectors response's vectors (from the generated client) as rows in the view's column order; a value that is not PRESENT is null. */
export function decodeVectors(vectors: FeatureVectors | undefined): VectorsWithStatus {
  return withStatuses(vectorBatchOfMessage(vectors));
}

/** The one object of a single lookup as the one-element array of a batch. */
function one(v: Row | undefined, what: string): Row[] | undefined {
  if (v === undefined) return undefined;
  if (Array.isArray(v))
    throw new TypeError(`${what} of getFeatureVector is one object, as the entry is (getFeatureVectors takes an array, one object per entry)`);
  return [v];
}

/** The per-entry objects of a batch lookup, checked to be one per entry; an entry with none passes nothing. */
function perEntry(v: readonly (Row | undefined)[] | undefined, n: number, what: string): Row[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v))
    throw new TypeError(`${what} of a batch lookup is an array with one object per entry, in the entries' order (getFeatureVector takes one object)`);
  if (v.length !== n) throw new TypeError(`${what} has ${v.length} objects for ${n} entries: give one per entry (undefined or {} for an entry with none)`);
  return v.map((r: Row | undefined) => r ?? {});
}

export type { FeatureValue };
