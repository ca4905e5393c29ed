// @granary/client: the typed TypeScript SDK. Users never build protobuf messages by hand.
export { connect, Granary, resolveAddresses, SERVICE_NAMES, type ConnectOptions, type HealthReport, type ServiceName } from "./granary.js";
export type { Services } from "./services.js";
export { Project } from "./project.js";
export { featureGroupMessage, type FeatureGroupSpec } from "./feature-group-spec.js";
export { featureViewMessage, type FeatureViewSpec, type OnDemandSpec, type TransformationName } from "./feature-view-spec.js";
export { FeatureGroup, type AppendColumnSpec, type InsertData, type InsertOptions, type InsertResult, type ReadOptions } from "./feature-group.js";
export {
  FeatureView,
  decodeVectors,
  type BatchDataOptions,
  type SpineOptions,
  type SplitOptions,
  type TimeSplitOptions,
  type TrainingDataOptions,
  type TrainTestSplit,
  type TrainValidationTestSplit,
  type LookupOptions,
  type VectorOptions,
  type VectorsOptions,
} from "./feature-view.js";
export { featuresAndLabels } from "./features-and-labels.js";
export { type FeatureVectorBatch, type VectorColumn, type VectorEventTimes, type VectorsWithStatus } from "./feature-vector-batch.js";
export {
  consistencySummary,
  type ConsistencyExampleRow,
  type ConsistencyOptions,
  type ConsistencyResult,
  type FeatureConsistencyResult,
} from "./consistency-check.js";
export type { ValueStatusName } from "./value-status.js";
export { ModelDraft, ModelRegistry, ModelVersionHandle, type CreateModelOptions, type VersionSelector } from "./model-registry.js";
export { Query, FilterExpr, FeatureRef, feature, type JoinOptions } from "./query.js";
export { parseType, typeName, type ColumnSpec, type TypeName } from "./column-types.js";
export { columnsFrom, typeNameOf, type ColumnsFromOptions } from "./columns-from.js";
export { withoutDictionaries } from "./dictionary-columns.js";
export { plainToValue, tableFromRows, toPlain, fromPlain, type FeatureValue, type Row } from "./values.js";
export { type InsertProgress } from "./arrow-stream.js";
export { backoffDelay, isIdempotent, type RetryOptions } from "./call-policy.js";
export { adminKeyFile, apiKeyHint, locateApiKey, resolveApiKey, resolveTls, type ApiKeyLocation, type TlsFiles } from "./credentials.js";
export { featureValueOf, plainValidationReport, validationReportOf, type ValidationReportEntry, type ValidationRuleResult } from "./validation-report.js";
export type { LineageEdge, LineageGraph, LineageKind, LineageNode, LineageOptions } from "./lineage.js";
export type { SearchKind, SearchOptions, SearchResult } from "./search.js";
export {
  driftStatusName,
  plainDriftReport,
  type ComputeDriftOptions,
  type DriftReport,
  type DriftStatusName,
  type DriftThresholdSettings,
  type DriftThresholdValues,
  type DriftWindow,
  type FeatureDriftEntry,
} from "./drift.js";
export { rules, split, type RuleOptions, type TimeWindow } from "./builders.js";
export type { EnableLoggingOptions, LogOptions, LogResult } from "./feature-logging.js";
export type { Neighbor, NeighborOptions, ViewNeighborOptions } from "./neighbors.js";
export type { EmbeddingIndexSpec } from "./feature-group-spec.js";
