import { create } from "@bufbuild/protobuf";
import { TransformationFunction, TransformationFunctionInfoSchema, type TransformationFunctionInfo } from "@granary/proto/metadata";
import { DataTypeSchema, ScalarType, type DataType } from "@granary/proto/types";

const NUMERIC_SCALARS: readonly ScalarType[] = [ScalarType.INT32, ScalarType.INT64, ScalarType.FLOAT, ScalarType.DOUBLE];
const CATEGORICAL_SCALARS: readonly ScalarType[] = [ScalarType.STRING, ScalarType.BOOL, ScalarType.INT32, ScalarType.INT64];

/** A number a scaler can work on: int32, int64, float or double, not a list. */
export function isNumericType(type: DataType): boolean {
  return !type.list && NUMERIC_SCALARS.includes(type.scalar);
}

/** A value an encoder can treat as a category: string, bool, int32 or int64, not a list. */
export function isCategoricalType(type: DataType): boolean {
  return !type.list && CATEGORICAL_SCALARS.includes(type.scalar);
}

function builtin(
  fn: TransformationFunction,
  name: string,
  description: string,
  parameters: string[],
  inputTypes: readonly ScalarType[],
  outputType: { scalar: ScalarType; list?: boolean },
): TransformationFunctionInfo {
  return create(TransformationFunctionInfoSchema, {
    function: fn,
    name,
    description,
    parameters,
    inputTypes: [...inputTypes],
    outputType: create(DataTypeSchema, outputType),
  });
}

/**
 * The built-in model-dependent transformations. Their parameters are statistics of a training
 * dataset's training split, so online and offline services apply them identically.
 */
export const TRANSFORMATION_FUNCTIONS: TransformationFunctionInfo[] = [
  builtin(
    TransformationFunction.MIN_MAX_SCALER,
    "min_max_scaler",
    "(x - min) / (max - min) with the training split's min and max",
    ["min", "max"],
    NUMERIC_SCALARS,
    { scalar: ScalarType.DOUBLE },
  ),
  builtin(
    TransformationFunction.STANDARD_SCALER,
    "standard_scaler",
    "(x - mean) / stddev with the training split's mean and standard deviation",
    ["mean", "stddev"],
    NUMERIC_SCALARS,
    { scalar: ScalarType.DOUBLE },
  ),
  builtin(
    TransformationFunction.ROBUST_SCALER,
    "robust_scaler",
    "(x - p50) / (p75 - p25) with the training split's median and interquartile range",
    ["p25", "p50", "p75"],
    NUMERIC_SCALARS,
    { scalar: ScalarType.DOUBLE },
  ),
  builtin(
    TransformationFunction.LABEL_ENCODER,
    "label_encoder",
    "the index of x among the training split's distinct values (categories)",
    ["categories"],
    CATEGORICAL_SCALARS,
    { scalar: ScalarType.INT64 },
  ),
  builtin(
    TransformationFunction.ONE_HOT_ENCODER,
    "one_hot_encoder",
    "a list of floats, one per training-split category, 1 at x's category and 0 elsewhere",
    ["categories"],
    CATEGORICAL_SCALARS,
    { scalar: ScalarType.FLOAT, list: true },
  ),
];

export function findTransformationFunction(fn: TransformationFunction): TransformationFunctionInfo | undefined {
  return TRANSFORMATION_FUNCTIONS.find((info) => info.function === fn);
}
