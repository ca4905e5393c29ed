// A feature group as the user declares it, and the message it becomes; apart from project.ts so
// FeatureGroup (below Project) can name the spec without importing Project.
import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import {
  DistanceMetric,
  EmbeddingIndexSchema,
  FeatureGroupSchema,
  type EmbeddingIndex,
  type FeatureGroup as FeatureGroupMessage,
  type StatisticsConfig,
  type ValidationRule,
} from "@granary/proto/metadata";
import { toColumn, type ColumnSpec } from "./column-types.js";

export interface FeatureGroupSpec {
  readonly name: string;
  /** Default 1. Versions are explicit: a different schema is a new version. */
  readonly version?: number;
  readonly columns: readonly ColumnSpec[];
  readonly primaryKey: readonly string[];
  readonly eventTime?: string;
  readonly partitionKey?: readonly string[];
  readonly onlineEnabled?: boolean;
  /** Online values older than this read as EXPIRED (milliseconds). */
  readonly onlineTtlMs?: number;
  /** How far back offline time travel reaches (milliseconds); compaction removes what is older. Unset: forever. */
  readonly offlineRetentionMs?: number;
  readonly description?: string;
  readonly tags?: readonly string[];
  readonly customMetadata?: Record<string, string>;
  readonly statistics?: Partial<Omit<StatisticsConfig, "$typeName">>;
  readonly validationRules?: readonly ValidationRule[];
  /** Nearest-neighbour indexes over embedding columns, searched with findNeighbors() (online groups only). */
  readonly embeddingIndexes?: readonly EmbeddingIndexSpec[];
}

/** An index over an embedding<N> column; the metric is how distance is measured. */
export interface EmbeddingIndexSpec {
  readonly column: string;
  readonly metric: "cosine" | "l2" | "inner_product";
}

const METRICS: Record<EmbeddingIndexSpec["metric"], DistanceMetric> = {
  cosine: DistanceMetric.COSINE,
  l2: DistanceMetric.L2,
  inner_product: DistanceMetric.INNER_PRODUCT,
};

export function embeddingIndexMessages(specs: readonly EmbeddingIndexSpec[] = []): EmbeddingIndex[] {
  return specs.map((s) => {
    const metric = METRICS[s.metric];
    if (metric === undefined) throw new TypeError(`unknown metric "${String(s.metric)}" for the index on "${s.column}": use cosine, l2 or inner_product`);
    return create(EmbeddingIndexSchema, { column: s.column, metric });
  });
}

export function featureGroupMessage(project: string, spec: FeatureGroupSpec): FeatureGroupMessage {
  return create(FeatureGroupSchema, {
    project,
    name: spec.name,
    version: spec.version ?? 1,
    description: spec.description ?? "",
    columns: spec.columns.map(toColumn),
    primaryKey: [...spec.primaryKey],
    eventTime: spec.eventTime ?? "",
    partitionKey: [...(spec.partitionKey ?? [])],
    onlineEnabled: spec.onlineEnabled ?? false,
    onlineTtl: spec.onlineTtlMs ? durationFromMs(spec.onlineTtlMs) : undefined,
    offlineRetention: spec.offlineRetentionMs ? durationFromMs(spec.offlineRetentionMs) : undefined,
    tags: [...(spec.tags ?? [])],
    customMetadata: { ...(spec.customMetadata ?? {}) },
    statisticsConfig: spec.statistics ? { enabled: true, ...spec.statistics } : undefined,
    validationRules: [...(spec.validationRules ?? [])],
    embeddingIndexes: embeddingIndexMessages(spec.embeddingIndexes),
  });
}
