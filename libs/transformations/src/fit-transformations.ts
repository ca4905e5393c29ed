import { InvalidArgumentError } from "@granary/errors";
import type { ColumnStatistics, TransformationFunction } from "@granary/proto/metadata";
import { fitTransformation } from "./fit-transformation.js";
import type { FittedTransformation } from "./fitted-transformation.js";

export interface TransformationSpec {
  readonly column: string;
  readonly fn: TransformationFunction;
}

/**
 * Fits every spec against the training dataset's column statistics, keyed by output column. The
 * first failure throws (see fitTransformation), so a view is served with all its transformations
 * or not at all.
 */
export function fitTransformations(specs: readonly TransformationSpec[], stats: readonly ColumnStatistics[]): Map<string, FittedTransformation> {
  const byColumn = new Map<string, ColumnStatistics>();
  for (const columnStats of stats) if (!byColumn.has(columnStats.column)) byColumn.set(columnStats.column, columnStats);
  const fitted = new Map<string, FittedTransformation>();
  for (const { column, fn } of specs) {
    if (fitted.has(column)) throw new InvalidArgumentError(`column ${column} has more than one transformation`);
    fitted.set(column, fitTransformation(fn, byColumn.get(column), column));
  }
  return fitted;
}
