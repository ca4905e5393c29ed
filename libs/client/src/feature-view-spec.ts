// A feature view as the user declares it, and the message it becomes; apart from project.ts, like
// feature-group-spec.ts, so Project and the CLI's apply share one translation.
import { create } from "@bufbuild/protobuf";
import { FeatureViewSchema, OnDemandFeatureSchema, TransformationFunction, type FeatureView as FeatureViewMessage } from "@granary/proto/metadata";
import { parseType, type TypeName } from "./column-types.js";
import type { Query } from "./query.js";

export type TransformationName = "min_max_scaler" | "standard_scaler" | "robust_scaler" | "label_encoder" | "one_hot_encoder";

const TRANSFORMATIONS: Record<TransformationName, TransformationFunction> = {
  min_max_scaler: TransformationFunction.MIN_MAX_SCALER,
  standard_scaler: TransformationFunction.STANDARD_SCALER,
  robust_scaler: TransformationFunction.ROBUST_SCALER,
  label_encoder: TransformationFunction.LABEL_ENCODER,
  one_hot_encoder: TransformationFunction.ONE_HOT_ENCODER,
};

export interface OnDemandSpec {
  readonly name: string;
  readonly type: TypeName;
  /** A CEL expression over request parameters and the view's selected columns. */
  readonly expression: string;
  readonly requestParameters?: readonly { name: string; type: TypeName }[];
}

export interface FeatureViewSpec {
  readonly name: string;
  readonly version?: number;
  readonly query: Query;
  readonly labels?: readonly string[];
  /** Model-dependent transformations by column: `{ amount: "min_max_scaler" }`. */
  readonly transformations?: Record<string, TransformationName>;
  readonly onDemand?: readonly OnDemandSpec[];
  readonly inferenceHelperColumns?: readonly string[];
  readonly trainingHelperColumns?: readonly string[];
  readonly description?: string;
  readonly tags?: readonly string[];
}

export function featureViewMessage(project: string, spec: FeatureViewSpec): FeatureViewMessage {
  return create(FeatureViewSchema, {
    project,
    name: spec.name,
    version: spec.version ?? 1,
    description: spec.description ?? "",
    query: spec.query.message,
    labels: [...(spec.labels ?? [])],
    onDemandFeatures: (spec.onDemand ?? []).map((f) =>
      create(OnDemandFeatureSchema, {
        name: f.name,
        type: parseType(f.type),
        expression: f.expression,
        requestParameters: (f.requestParameters ?? []).map((p) => ({ name: p.name, type: parseType(p.type) })),
      }),
    ),
    transformations: Object.entries(spec.transformations ?? {}).map(([column, fn]) => {
      const fnId = TRANSFORMATIONS[fn];
      if (fnId === undefined) throw new TypeError(`unknown transformation "${fn}" for column "${column}": use ${Object.keys(TRANSFORMATIONS).join(", ")}`);
      return { column, function: fnId };
    }),
    inferenceHelperColumns: [...(spec.inferenceHelperColumns ?? [])],
    trainingHelperColumns: [...(spec.trainingHelperColumns ?? [])],
    tags: [...(spec.tags ?? [])],
  });
}
