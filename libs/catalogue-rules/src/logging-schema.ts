import { create } from "@bufbuild/protobuf";
import { FailedPreconditionError, InvalidArgumentError } from "@granary/errors";
import { ColumnRole, FeatureGroupSchema, StatisticsConfigSchema, type FeatureGroup, type FeatureView } from "@granary/proto/metadata";
import { ColumnSchema, DataTypeSchema, ScalarType, type Column, type DataType } from "@granary/proto/types";
import { findTransformationFunction } from "./transformation-functions.js";

/** Longest identifier (see names.ts): the logging group's name must fit. */
const MAX_NAME = 63;

/** Names ending like "<anything>_<digits>_logging" belong to feature logging; only the metadata service creates them. */
export const RESERVED_LOGGING_NAME = /_[0-9]+_logging$/;

/** "<view>_<version>_logging": the logging feature group of a view version (always version 1). */
export function loggingGroupName(view: string, version: number): string {
  return `${view}_${version}_logging`;
}

/** Where each part of a logged vector goes in the logging group, by the name the caller uses. */
export interface LoggingSchema {
  /** Serving key name → its type (same column name in the group). */
  readonly servingKeys: ReadonlyMap<string, DataType>;
  /** Output column (not a label) → its type (same column name). */
  readonly untransformed: ReadonlyMap<string, DataType>;
  /** Output column with a model-dependent transformation → the transformation's output type ("<column>_transformed"). */
  readonly transformed: ReadonlyMap<string, DataType>;
  /** Request parameter of an on-demand feature → its type ("request_<name>"). */
  readonly requestParameters: ReadonlyMap<string, DataType>;
  /** Label → its type ("predicted_<label>"), or "prediction" → double for a view without labels. */
  readonly predictions: ReadonlyMap<string, DataType>;
  /** Every column of the logging group, in order. */
  readonly columns: readonly Column[];
}

export const transformedColumn = (column: string) => `${column}_transformed`;
export const requestParameterColumn = (name: string) => `request_${name}`;
/** The group column of a prediction: "predicted_<label>", or "prediction" for a view without labels. */
export const predictionColumn = (name: string) => (name === "prediction" ? name : `predicted_${name}`);

const type = (scalar: ScalarType) => create(DataTypeSchema, { scalar });

/**
 * The logging group's schema of a resolved view version: log_id (primary key), log_time (event
 * time), the serving keys, every non-label output column untransformed, "<column>_transformed" per
 * model-dependent transformation, "request_<name>" per request parameter, "predicted_<label>" per
 * label (or one "prediction" double), model, model_version, training_dataset_version, source.
 * Two parts that would fill one column with different types refuse the view (FAILED_PRECONDITION).
 */
export function loggingSchema(view: FeatureView): LoggingSchema {
  const columns = new Map<string, Column>();
  const add = (name: string, t: DataType, what: string) => {
    const existing = columns.get(name);
    if (existing) {
      if (sameType(existing.type!, t)) return;
      throw new FailedPreconditionError(
        `feature view "${view.name}" version ${view.version} cannot log: its ${what} "${name}" clashes with another column of that name in the logging schema`,
      );
    }
    columns.set(name, create(ColumnSchema, { name, type: t }));
  };
  add("log_id", type(ScalarType.STRING), "log id");
  add("log_time", type(ScalarType.TIMESTAMP), "log time");
  const servingKeys = new Map<string, DataType>();
  for (const key of view.servingKeys) {
    servingKeys.set(key.name, key.type!);
    add(key.name, key.type!, "serving key");
  }
  const untransformed = new Map<string, DataType>();
  const transformed = new Map<string, DataType>();
  const labels: Column[] = [];
  for (const c of view.outputColumns) {
    if (c.role === ColumnRole.LABEL) {
      labels.push(create(ColumnSchema, { name: c.name, type: c.type }));
      continue;
    }
    untransformed.set(c.name, c.type!);
    add(c.name, c.type!, "output column");
  }
  for (const c of view.outputColumns) {
    if (c.role === ColumnRole.LABEL || !c.transformation) continue;
    const out = findTransformationFunction(c.transformation)?.outputType;
    if (!out) continue;
    transformed.set(c.name, out);
    add(transformedColumn(c.name), out, "transformed column");
  }
  const requestParameters = new Map<string, DataType>();
  for (const f of view.onDemandFeatures) {
    for (const p of f.requestParameters) {
      requestParameters.set(p.name, p.type!);
      add(requestParameterColumn(p.name), p.type!, "request parameter");
    }
  }
  const predictions = new Map<string, DataType>();
  if (labels.length === 0) predictions.set("prediction", type(ScalarType.DOUBLE));
  for (const l of labels) predictions.set(l.name, l.type!);
  for (const [name, t] of predictions) add(predictionColumn(name), t, "prediction");
  add("model", type(ScalarType.STRING), "model");
  add("model_version", type(ScalarType.INT32), "model version");
  add("training_dataset_version", type(ScalarType.INT32), "training dataset version");
  add("source", type(ScalarType.STRING), "source");
  return { servingKeys, untransformed, transformed, requestParameters, predictions, columns: [...columns.values()] };
}

/** The logging feature group of a view version, as EnableFeatureLogging creates it. */
export function loggingFeatureGroup(view: FeatureView, createdBy: string): FeatureGroup {
  const name = loggingGroupName(view.name, view.version);
  if (name.length > MAX_NAME) {
    throw new InvalidArgumentError(
      `the logging feature group of feature view "${view.name}" version ${view.version} would be named "${name}" (${name.length} characters, at most ${MAX_NAME}); a view with a shorter name can log`,
      { field: "feature_view.name" },
    );
  }
  return create(FeatureGroupSchema, {
    project: view.project,
    name,
    version: 1,
    description: `Feature and prediction logs of feature view "${view.name}" version ${view.version}`,
    columns: [...loggingSchema(view).columns],
    primaryKey: ["log_id"],
    eventTime: "log_time",
    onlineEnabled: false,
    statisticsConfig: create(StatisticsConfigSchema, { enabled: false }),
    createdBy,
  });
}

function sameType(a: DataType, b: DataType): boolean {
  return a.scalar === b.scalar && a.list === b.list && a.dimension === b.dimension;
}
