import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type * as arrow from "apache-arrow";
import { ColumnRole, TransformationFunction, type FeatureView as FeatureViewMessage } from "@granary/proto/metadata";
import { ScalarType, type DataType, type NamedColumn } from "@granary/proto/types";
import { FeatureGroup } from "./feature-group.js";
import { feature, type FilterExpr } from "./query.js";
import type { Services } from "./services.js";
import { namedColumn, type Row } from "./values.js";

/** How the online service logs what it serves for a view version (FeatureLogging). */
export interface EnableLoggingOptions {
  /** The online service logs the vectors it serves itself (GetFeatureVectors, GetModelFeatureVectors). */
  readonly online?: boolean;
  /** Share of the served vectors it logs, in (0, 1]; default 1. */
  readonly sampleRate?: number;
}

export interface LogOptions {
  /** The model the vectors were served to, and its version. */
  readonly model?: string;
  readonly modelVersion?: number;
  /** The training dataset version whose statistics transformed the vectors. */
  readonly trainingDatasetVersion?: number;
  /** Request parameters of the view's on-demand features, one record per vector. */
  readonly requestParameters?: readonly Row[];
  /** The vectors as the model received them (after model-dependent transformations), one record per vector. */
  readonly transformed?: readonly Row[];
  /** When the vectors were served; default now. */
  readonly logTime?: Date;
  readonly signal?: AbortSignal;
}

export interface LogResult {
  readonly loggedCount: number;
  readonly commitId: bigint;
  /** The logging feature group ("<view>_<version>_logging", version 1). */
  readonly loggingFeatureGroup: { readonly name: string; readonly version: number };
}

/**
 * Creates the view version's logging group if needed and sets its online logging (unset options
 * keep the current setting); returns the view as stored now.
 */
export async function enableLogging(services: Services, view: FeatureViewMessage, options: EnableLoggingOptions): Promise<FeatureViewMessage> {
  if (typeof options !== "object" || options === null) throw new TypeError("enableLogging takes { online?: boolean, sampleRate?: number }");
  const { online, sampleRate } = options;
  if (sampleRate !== undefined && (typeof sampleRate !== "number" || !(sampleRate > 0 && sampleRate <= 1))) {
    throw new RangeError(`sampleRate must be in (0, 1], got ${String(sampleRate)}`);
  }
  if (online !== undefined && typeof online !== "boolean") throw new TypeError(`online must be a boolean, got ${typeof online}`);
  const logging =
    online === undefined && sampleRate === undefined
      ? undefined
      : { onlineEnabled: online ?? view.logging?.onlineEnabled ?? false, sampleRate: sampleRate ?? (view.logging?.sampleRate || 1) };
  const res = await services.metadata.enableFeatureLogging(
    { project: view.project, featureView: { name: view.name, version: view.version }, logging },
    services.unary(),
  );
  return res.featureView!;
}

/**
 * Appends served vectors and the predictions made from them to the view version's logging group.
 * `vectors` are what getFeatureVectors returned (records by output column; serving keys may be in
 * them too), `predictions` one number per vector (a view without labels, or one label) or one
 * record per vector keyed by label.
 */
export async function logVectors(
  services: Services,
  view: FeatureViewMessage,
  vectors: readonly Row[],
  predictions: readonly (number | Row | null)[] | undefined,
  options: LogOptions,
): Promise<LogResult> {
  if (!Array.isArray(vectors)) throw new TypeError("log: vectors must be an array of records (what getFeatureVectors returns)");
  const n = vectors.length;
  if (n === 0) throw new RangeError("log: no vectors to log");
  vectors.forEach((v, i) => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw new TypeError(`log: vectors[${i}] must be a record keyed by column name`);
  });
  if (predictions !== undefined && (!Array.isArray(predictions) || predictions.length !== n)) {
    throw new TypeError(`log: predictions must be an array with one entry per vector (${n})`);
  }
  const labels = view.outputColumns.filter((c) => c.role === ColumnRole.LABEL);
  const keyTypes = new Map(view.servingKeys.map((k) => [k.name, k.type!]));
  const featureTypes = new Map(view.outputColumns.filter((c) => c.role !== ColumnRole.LABEL).map((c) => [c.name, c.type!]));
  const transformedTypes = new Map(view.outputColumns.filter((c) => c.transformation).map((c) => [c.name, transformedType(c.transformation)]));
  const paramTypes = new Map(view.onDemandFeatures.flatMap((f) => f.requestParameters.map((p) => [p.name, p.type!] as const)));

  const columnsOf = (rows: readonly Row[], types: Map<string, DataType>, what: string, skipUnknown = false): NamedColumn[] => {
    const names = [...new Set(rows.flatMap((r) => Object.keys(r)))];
    return names.flatMap((name) => {
      const type = types.get(name);
      if (!type) {
        if (skipUnknown) return [];
        throw new TypeError(`log: ${what} "${name}" is not one of view "${view.name}" (${[...types.keys()].join(", ") || "it has none"})`);
      }
      return [
        namedColumn(
          name,
          type,
          rows.map((r) => r[name]),
        ),
      ];
    });
  };
  const checkRows = (rows: readonly Row[] | undefined, what: string) => {
    if (rows === undefined) return [];
    if (!Array.isArray(rows) || rows.length !== n) throw new TypeError(`log: ${what} must be an array with one record per vector (${n})`);
    return rows;
  };
  // A key that is also a feature is logged once, as the feature; the others are keys only.
  const keys = columnsOf(vectors, keyTypes, "serving key", true).filter((c) => !featureTypes.has(c.name));
  const untransformed = columnsOf(
    vectors.map((v) => Object.fromEntries(Object.entries(v).filter(([k]) => !keyTypes.has(k) || featureTypes.has(k))) as Row),
    featureTypes,
    "column",
  );
  const res = await services.offline.logFeatures(
    {
      project: view.project,
      featureView: { name: view.name, version: view.version },
      rowCount: n,
      servingKeys: keys,
      untransformed,
      transformed: columnsOf(checkRows(options.transformed, "transformed"), transformedTypes, "transformed column"),
      requestParameters: columnsOf(checkRows(options.requestParameters, "requestParameters"), paramTypes, "request parameter"),
      predictions:
        predictions === undefined
          ? []
          : predictionColumns(
              predictions,
              labels.map((l) => ({ name: l.name, type: l.type! })),
            ),
      model: options.model ?? "",
      modelVersion: options.modelVersion ?? 0,
      trainingDatasetVersion: options.trainingDatasetVersion ?? 0,
      logTime: options.logTime ? timestampFromMs(options.logTime.getTime()) : undefined,
    },
    services.unary(options.signal),
  );
  return {
    loggedCount: Number(res.loggedCount),
    commitId: res.commitId,
    loggingFeatureGroup: { name: res.loggingFeatureGroup?.name ?? "", version: res.loggingFeatureGroup?.version ?? 0 },
  };
}

/** The view version's logging group (FAILED_PRECONDITION-like TypeError when logging was never enabled or used). */
export async function loggingGroup(services: Services, view: FeatureViewMessage): Promise<FeatureGroup> {
  const ref = view.loggingFeatureGroup;
  const name = ref?.name || `${view.name}_${view.version}_logging`;
  const res = await services.metadata.getFeatureGroup({ project: view.project, name, version: ref?.version || 1 }, services.unary());
  return new FeatureGroup(services, res.featureGroup!);
}

/** The logged vectors with log_time in [start, end), as an Arrow table. */
export async function readLog(services: Services, view: FeatureViewMessage, options: { start?: Date; end?: Date; signal?: AbortSignal }): Promise<arrow.Table> {
  const group = await loggingGroup(services, view);
  const parts: FilterExpr[] = [];
  if (options.start) parts.push(feature("log_time").ge(options.start));
  if (options.end) parts.push(feature("log_time").lt(options.end));
  const filter = parts.length === 0 ? undefined : parts.length === 1 ? parts[0] : parts[0]!.and(...parts.slice(1));
  return group.read({ filter, signal: options.signal });
}

function predictionColumns(predictions: readonly (number | Row | null)[], labels: readonly { name: string; type: DataType }[]): NamedColumn[] {
  const byRecord = predictions.some((p) => typeof p === "object" && p !== null);
  if (!byRecord) {
    predictions.forEach((p, i) => {
      if (p !== null && typeof p !== "number") throw new TypeError(`log: predictions[${i}] must be a number, a record keyed by label, or null`);
    });
    if (labels.length > 1) throw new TypeError(`log: view has labels ${labels.map((l) => l.name).join(", ")}: give each prediction as a record keyed by label`);
    const target = labels[0] ?? { name: "prediction", type: { scalar: ScalarType.DOUBLE } as DataType };
    return [namedColumn(target.name, target.type, predictions as (number | null)[])];
  }
  const types = new Map((labels.length ? labels : [{ name: "prediction", type: { scalar: ScalarType.DOUBLE } as DataType }]).map((l) => [l.name, l.type]));
  const rows = predictions.map((p, i) => {
    if (p !== null && (typeof p !== "object" || Array.isArray(p))) throw new TypeError(`log: predictions[${i}] must be a record keyed by label, or null`);
    return (p ?? {}) as Row;
  });
  const names = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return names.map((name) => {
    const type = types.get(name);
    if (!type) throw new TypeError(`log: prediction "${name}" is not a label of the view (${[...types.keys()].join(", ")})`);
    return namedColumn(
      name,
      type,
      rows.map((r) => r[name]),
    );
  });
}

/** The type a model-dependent transformation outputs (as TRANSFORMATION_FUNCTIONS in @granary/catalogue-rules says). */
function transformedType(fn: TransformationFunction): DataType {
  if (fn === TransformationFunction.LABEL_ENCODER) return { scalar: ScalarType.INT64 } as DataType;
  if (fn === TransformationFunction.ONE_HOT_ENCODER) return { scalar: ScalarType.FLOAT, list: true } as DataType;
  return { scalar: ScalarType.DOUBLE } as DataType;
}
