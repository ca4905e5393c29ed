import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import {
  FeatureGroupSchema,
  FeatureViewSchema,
  OnDemandFeatureSchema,
  TransformationFunction,
  type FeatureGroup as FeatureGroupMessage,
  type FeatureView as FeatureViewMessage,
  type StatisticsConfig,
  type ValidationRule,
} from "@granary/proto/metadata";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Services } from "./granary.js";
import { parseType, toColumn, type ColumnSpec, type TypeName } from "./column-types.js";
import { decodeVectors, FeatureView, type VectorOptions, type VectorsWithStatus } from "./feature-view.js";
import { FeatureGroup } from "./feature-group.js";
import { ModelRegistry } from "./model-registry.js";
import type { Query } from "./query.js";
import type { Row } from "./values.js";

export interface FeatureGroupSpec {
  readonly name: string;
  /** Default 1. Versions are explicit: a different schema is a new version. */
  readonly version?: number;
  readonly columns: readonly ColumnSpec[];
  readonly primaryKey: readonly string[];
  readonly eventTime?: string;
  readonly partitionKey?: readonly string[];
  readonly onlineEnabled?: boolean;
  /** Online values older than this read as EXPIRED (milliseconds). */
  readonly onlineTtlMs?: number;
  readonly description?: string;
  readonly tags?: readonly string[];
  readonly customMetadata?: Record<string, string>;
  readonly statistics?: Partial<Omit<StatisticsConfig, "$typeName">>;
  readonly validationRules?: readonly ValidationRule[];
}

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

/** A project: the boundary every feature group, view and model lives in. */
export class Project {
  readonly #services: Services;
  readonly name: string;
  readonly modelRegistry: ModelRegistry;
  readonly #modelViews = new Map<string, FeatureView>();

  constructor(services: Services, name: string) {
    this.#services = services;
    this.name = name;
    this.modelRegistry = new ModelRegistry(services, name);
  }

  /** Creates the group version, or returns it when an identical one exists (a different one is ALREADY_EXISTS). */
  async getOrCreateFeatureGroup(spec: FeatureGroupSpec): Promise<FeatureGroup> {
    const res = await this.#services.metadata.createFeatureGroup({ featureGroup: featureGroupMessage(this.name, spec) }, this.#services.unary());
    return new FeatureGroup(this.#services, res.featureGroup!);
  }

  /** A group version; the latest when no version is given. */
  async getFeatureGroup(name: string, version = 0): Promise<FeatureGroup> {
    const res = await this.#services.metadata.getFeatureGroup({ project: this.name, name, version }, this.#services.unary());
    return new FeatureGroup(this.#services, res.featureGroup!);
  }

  async listFeatureGroups(): Promise<FeatureGroupMessage[]> {
    const res = await this.#services.metadata.listFeatureGroups({ project: this.name, pageSize: 1000 }, this.#services.unary());
    return res.featureGroups;
  }

  /** Creates the view version, or returns it when an identical one exists. */
  async getOrCreateFeatureView(spec: FeatureViewSpec): Promise<FeatureView> {
    const res = await this.#services.metadata.createFeatureView({ featureView: featureViewMessage(this.name, spec) }, this.#services.unary());
    return new FeatureView(this.#services, res.featureView!);
  }

  async getFeatureView(name: string, version = 0): Promise<FeatureView> {
    const res = await this.#services.metadata.getFeatureView({ project: this.name, name, version }, this.#services.unary());
    return new FeatureView(this.#services, res.featureView!);
  }

  async listFeatureViews(): Promise<FeatureViewMessage[]> {
    const res = await this.#services.metadata.listFeatureViews({ project: this.name, pageSize: 1000 }, this.#services.unary());
    return res.featureViews;
  }

  /**
   * Feature vectors for a model version picked by alias or number: the online service resolves the
   * feature-view version and training dataset the model was trained on, so moving an alias switches both.
   */
  async getModelFeatureVectors(
    model: string,
    selector: { alias: string } | { version: number },
    entries: readonly Row[],
    options: Pick<VectorOptions, "passedFeatures" | "requestParameters" | "untransformed" | "signal"> & { featureView?: FeatureView } = {},
  ): Promise<VectorsWithStatus & { modelVersion: number; featureView: { name: string; version: number }; trainingDatasetVersion: number }> {
    // The view (for the serving keys' types) is resolved once per model and selector and cached;
    // when the alias has moved to a version on another view, the cache is refreshed.
    const key = `${model}@${"alias" in selector ? `alias:${selector.alias}` : `version:${selector.version}`}`;
    const cached = options.featureView ?? this.#modelViews.get(key);
    const view = cached ?? (await this.#viewOfModel(model, selector));
    const call = (v: FeatureView) =>
      this.#services.online.getModelFeatureVectors(
        {
          project: this.name,
          model,
          modelVersion: "alias" in selector ? { case: "alias", value: selector.alias } : { case: "version", value: selector.version },
          entities: v.entityRows(entries, options),
          options: { untransformed: options.untransformed ?? false },
        },
        this.#services.unary(options.signal),
      );
    let res;
    let used = view;
    try {
      res = await call(view);
    } catch (err) {
      // A request the cached view cannot encode (TypeError) or the server refuses may come from a stale view.
      const code = err instanceof TypeError ? Code.InvalidArgument : ConnectError.from(err).code;
      if (!cached || options.featureView || (code !== Code.InvalidArgument && code !== Code.NotFound)) throw err;
      // The cached view may be stale (the alias moved): resolve again, once.
      this.#modelViews.delete(key);
      used = await this.#viewOfModel(model, selector);
      res = await call(used);
    }
    const served = { name: res.featureView?.name ?? "", version: res.featureView?.version ?? 0 };
    if (!options.featureView) {
      if (served.name === used.name && served.version === used.version) this.#modelViews.set(key, used);
      else this.#modelViews.delete(key);
    }
    return { ...decodeVectors(res.vectors), modelVersion: res.modelVersion, featureView: served, trainingDatasetVersion: res.trainingDatasetVersion };
  }

  async #viewOfModel(model: string, selector: { alias: string } | { version: number }): Promise<FeatureView> {
    const version = await this.modelRegistry.getModel(model, selector);
    const fv = version.featureView;
    if (!fv) throw new TypeError(`model "${model}" version ${version.version} names no feature view; register it with featureView`);
    return this.getFeatureView(fv.name, fv.version);
  }
}

export function featureGroupMessage(project: string, spec: FeatureGroupSpec): FeatureGroupMessage {
  return create(FeatureGroupSchema, {
    project,
    name: spec.name,
    version: spec.version ?? 1,
    description: spec.description ?? "",
    columns: spec.columns.map(toColumn),
    primaryKey: [...spec.primaryKey],
    eventTime: spec.eventTime ?? "",
    partitionKey: [...(spec.partitionKey ?? [])],
    onlineEnabled: spec.onlineEnabled ?? false,
    onlineTtl: spec.onlineTtlMs ? durationFromMs(spec.onlineTtlMs) : undefined,
    tags: [...(spec.tags ?? [])],
    customMetadata: { ...(spec.customMetadata ?? {}) },
    statisticsConfig: spec.statistics ? { enabled: true, ...spec.statistics } : undefined,
    validationRules: [...(spec.validationRules ?? [])],
  });
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
