import { FailedPreconditionError, InvalidArgumentError } from "@granary/errors";
import { TransformationFunction, type ColumnStatistics } from "@granary/proto/metadata";
import type { FittedTransformation } from "./fitted-transformation.js";
import { LabelEncoder } from "./label-encoder.js";
import { OneHotEncoder } from "./one-hot-encoder.js";
import { Scaler } from "./scaler.js";
import { transformationName } from "./transformation-name.js";

type NumericStatistic = "min" | "max" | "mean" | "stddev" | "p25" | "p50" | "p75";

/**
 * Binds `fn` to the training split's statistics of `column`. Throws FailedPreconditionError, naming
 * the column and the statistic, when they lack what `fn` needs (no statistics at all, a missing or
 * non-finite value, no categories): applying a half-fitted transformation would silently feed the
 * model NaN.
 */
export function fitTransformation(fn: TransformationFunction, stats: ColumnStatistics | undefined, column: string): FittedTransformation {
  switch (fn) {
    case TransformationFunction.MIN_MAX_SCALER: {
      const [min, max] = numbers(fn, stats, column, ["min", "max"]);
      return new Scaler(fn, column, min, max - min);
    }
    case TransformationFunction.STANDARD_SCALER: {
      const [mean, stddev] = numbers(fn, stats, column, ["mean", "stddev"]);
      return new Scaler(fn, column, mean, stddev);
    }
    case TransformationFunction.ROBUST_SCALER: {
      const [p25, p50, p75] = numbers(fn, stats, column, ["p25", "p50", "p75"]);
      return new Scaler(fn, column, p50, p75 - p25);
    }
    case TransformationFunction.LABEL_ENCODER:
      return new LabelEncoder(fn, column, categories(fn, stats, column));
    case TransformationFunction.ONE_HOT_ENCODER:
      return new OneHotEncoder(fn, column, categories(fn, stats, column));
    case TransformationFunction.UNSPECIFIED:
      throw new InvalidArgumentError(`the transformation on ${column} has no function`);
    default:
      throw new InvalidArgumentError(`the transformation on ${column} has an unknown function (${String(fn)})`);
  }
}

function numbers<const K extends readonly NumericStatistic[]>(
  fn: TransformationFunction,
  stats: ColumnStatistics | undefined,
  column: string,
  keys: K,
): { [I in keyof K]: number } {
  const need = `${transformationName(fn)} on ${column} needs ${listed(keys, "and")} of the training split`;
  if (stats === undefined) {
    throw new FailedPreconditionError(`${need}; the training dataset has no statistics for ${column}`);
  }
  const missing = keys.filter((key) => stats[key] === undefined);
  if (missing.length > 0) {
    throw new FailedPreconditionError(`${need}; the training dataset's statistics for ${column} have no ${listed(missing, "or")}`);
  }
  const values = keys.map((key) => stats[key] as number);
  const bad = keys.findIndex((_, i) => !Number.isFinite(values[i]));
  if (bad >= 0) {
    throw new FailedPreconditionError(`${need}; the training dataset's statistics for ${column} have ${keys[bad]} = ${values[bad]}`);
  }
  return values as { [I in keyof K]: number };
}

function categories(fn: TransformationFunction, stats: ColumnStatistics | undefined, column: string): string[] {
  const need = `${transformationName(fn)} on ${column} needs the categories of the training split`;
  if (stats === undefined) {
    throw new FailedPreconditionError(`${need}; the training dataset has no statistics for ${column}`);
  }
  if (stats.categories.length === 0) {
    throw new FailedPreconditionError(`${need}; the training dataset's statistics for ${column} have no categories`);
  }
  return stats.categories;
}

function listed(words: readonly string[], conjunction: "and" | "or"): string {
  if (words.length <= 1) return words.join("");
  return `${words.slice(0, -1).join(", ")} ${conjunction} ${words[words.length - 1]}`;
}
