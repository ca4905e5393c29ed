// The declarations a checked manifest holds, apart from the checks that build them (check-group.ts,
// check-view.ts) and the loader that gathers them (manifest.ts), so imports run one way.
import type { PlainValue } from "@granary/cel";
import type { TransformationName } from "@granary/client";
import type { DataType } from "@granary/proto/types";
import type { FilterDecl } from "./filter-text.js";
import type { PathSegment } from "./yaml-checker.js";

/** A file of declarations, checked: what `granary apply` makes true on the server. */
export interface Manifest {
  readonly project?: string;
  readonly featureGroups: readonly GroupDecl[];
  readonly featureViews: readonly ViewDecl[];
}

export interface ColumnDecl {
  readonly name: string;
  readonly type: DataType;
  readonly description?: string;
  /** For rows written before the column existed (appended columns). */
  readonly defaultValue?: PlainValue;
}

export type RuleKind =
  | { readonly kind: "between"; readonly min?: number; readonly max?: number }
  | { readonly kind: "not_null" }
  | { readonly kind: "unique" }
  | { readonly kind: "values_in_set"; readonly values: readonly PlainValue[] }
  | { readonly kind: "regex_match"; readonly pattern: string };

export interface RuleDecl {
  readonly name: string;
  readonly column: string;
  readonly columnType: DataType;
  readonly policy: "fail" | "warn";
  readonly rule: RuleKind;
}

export interface GroupDecl {
  readonly path: readonly PathSegment[];
  readonly name: string;
  readonly version: number;
  readonly description?: string;
  readonly columns: readonly ColumnDecl[];
  readonly primaryKey: readonly string[];
  readonly eventTime?: string;
  readonly partitionKey: readonly string[];
  readonly onlineEnabled: boolean;
  readonly onlineTtlMs?: number;
  readonly tags: readonly string[];
  readonly customMetadata: Record<string, string>;
  readonly statistics?: { enabled: boolean; histograms: boolean; correlations: boolean; columns: string[] };
  readonly validationRules: readonly RuleDecl[];
  /** Nearest-neighbour indexes over embedding columns (online groups only). */
  readonly embeddingIndexes: readonly EmbeddingIndexDecl[];
}

export interface EmbeddingIndexDecl {
  readonly column: string;
  readonly metric: "cosine" | "l2" | "inner_product";
}

/** Drift thresholds: an unset one is not checked (the service's defaults apply without any). */
export interface ThresholdsDecl {
  readonly psi?: number;
  readonly ks?: number;
  readonly nullShareIncrease?: number;
}

export interface MonitoringDecl {
  readonly default?: ThresholdsDecl;
  readonly features: Readonly<Record<string, ThresholdsDecl>>;
}

export type SelectionDecl = { readonly mode: "all" | "features" } | { readonly mode: "include" | "except"; readonly columns: readonly string[] };

export interface QueryDecl {
  readonly path: readonly PathSegment[];
  readonly group: string;
  /** Undefined: the version declared in the same file, else the latest on the server. */
  readonly version?: number;
  readonly selection: SelectionDecl;
  readonly joins: readonly JoinDecl[];
  readonly filter?: FilterDecl;
}

export interface JoinDecl {
  readonly query: QueryDecl;
  readonly on: readonly string[];
  readonly leftOn: readonly string[];
  readonly rightOn: readonly string[];
  readonly prefix?: string;
  readonly type: "left" | "inner";
}

export interface OnDemandDecl {
  readonly name: string;
  readonly type: string;
  readonly expression: string;
  readonly requestParameters: readonly { name: string; type: string }[];
}

export interface ViewDecl {
  readonly path: readonly PathSegment[];
  readonly name: string;
  readonly version: number;
  readonly description?: string;
  readonly query: QueryDecl;
  readonly labels: readonly string[];
  readonly transformations: Record<string, TransformationName>;
  readonly onDemand: readonly OnDemandDecl[];
  readonly inferenceHelperColumns: readonly string[];
  readonly trainingHelperColumns: readonly string[];
  readonly tags: readonly string[];
  /** Drift thresholds of the view's monitoring (mutable: a change updates the version in place). */
  readonly monitoring?: MonitoringDecl;
}
