import { TransformationFunction } from "@granary/proto/metadata";

/** The snake_case name users know a function by (Hopsworks' names), for messages and docs. */
export function transformationName(fn: TransformationFunction): string {
  switch (fn) {
    case TransformationFunction.MIN_MAX_SCALER:
      return "min_max_scaler";
    case TransformationFunction.STANDARD_SCALER:
      return "standard_scaler";
    case TransformationFunction.ROBUST_SCALER:
      return "robust_scaler";
    case TransformationFunction.LABEL_ENCODER:
      return "label_encoder";
    case TransformationFunction.ONE_HOT_ENCODER:
      return "one_hot_encoder";
    case TransformationFunction.UNSPECIFIED:
      return "unspecified";
    default:
      return `unknown(${String(fn)})`;
  }
}
