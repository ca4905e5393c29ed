import type { LabelEncoder } from "./label-encoder.js";
import type { OneHotEncoder } from "./one-hot-encoder.js";
import type { Scaler } from "./scaler.js";

/**
 * A model-dependent transformation with its training-split parameters, ready to apply. Narrow on
 * `outputKind`: "double" (a Scaler), "int64" (a LabelEncoder), "one_hot" (a OneHotEncoder).
 */
export type FittedTransformation = Scaler | LabelEncoder | OneHotEncoder;

export type TransformationOutputKind = FittedTransformation["outputKind"];
