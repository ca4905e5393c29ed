import type { FeatureGroup as FeatureGroupMessage, FeatureView as FeatureViewMessage } from "@granary/proto/metadata";
import { Code, ConnectError } from "@connectrpc/connect";
import { OnlineService } from "@granary/proto/online";
import type { Services } from "./services.js";
import { featureGroupMessage, type FeatureGroupSpec } from "./feature-group-spec.js";
import { featureViewMessage, type FeatureViewSpec } from "./feature-view-spec.js";
import { FeatureView, type VectorsOptions } from "./feature-view.js";
import { vectorBatch, withStatuses, type VectorsWithStatus } from "./feature-vector-batch.js";
import { callWithRawField } from "./raw-field-call.js";
import { FeatureGroup } from "./feature-group.js";
import { getLineage, type LineageGraph, type LineageNode, type LineageOptions } from "./lineage.js";
import { ModelRegistry } from "./model-registry.js";
import { searchProject, type SearchOptions, type SearchResult } from "./search.js";
import type { Row } from "./values.js";

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
   * Feature groups, views and models whose name starts with `text` or whose description holds its
   * words (empty text: everything), best matches first; `tags` and `kinds` narrow the search.
   */
  async search(text: string, options: SearchOptions = {}): Promise<SearchResult[]> {
    return searchProject(this.#services, this.name, text, options);
  }

  /** The lineage around any node (fg.lineage(), fv.lineage() and model.lineage() are this for their own). */
  async lineage(node: LineageNode, options: LineageOptions = {}): Promise<LineageGraph> {
    return getLineage(this.#services, this.name, node, options);
  }

  /**
   * Feature vectors for a model version picked by alias or number: the online service resolves the
   * feature-view version and training dataset the model was trained on, so moving an alias switches both.
   */
  async getModelFeatureVectors(
    model: string,
    selector: { alias: string } | { version: number },
    entries: readonly Row[],
    options: Pick<VectorsOptions, "passedFeatures" | "requestParameters" | "untransformed" | "signal"> & { featureView?: FeatureView } = {},
  ): Promise<VectorsWithStatus & { modelVersion: number; featureView: { name: string; version: number }; trainingDatasetVersion: number }> {
    // The view (for the serving keys' types) is resolved once per model and selector and cached;
    // when the alias has moved to a version on another view, the cache is refreshed.
    const key = `${model}@${"alias" in selector ? `alias:${selector.alias}` : `version:${selector.version}`}`;
    const cached = options.featureView ?? this.#modelViews.get(key);
    const view = cached ?? (await this.#viewOfModel(model, selector));
    // Field 1 of GetModelFeatureVectorsResponse is the FeatureVectors, read into typed arrays
    // (vector-wire.ts); the model version and view come through protobuf-es.
    const call = (v: FeatureView) =>
      callWithRawField(
        this.#services.onlineTransport,
        OnlineService.method.getModelFeatureVectors,
        {
          project: this.name,
          model,
          modelVersion: "alias" in selector ? { case: "alias", value: selector.alias } : { case: "version", value: selector.version },
          entities: v.entityRows(entries, options),
          options: { untransformed: options.untransformed ?? false },
        },
        this.#services.unary(options.signal),
        1,
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
    const { message, raw } = res;
    const served = { name: message.featureView?.name ?? "", version: message.featureView?.version ?? 0 };
    if (!options.featureView) {
      if (served.name === used.name && served.version === used.version) this.#modelViews.set(key, used);
      else this.#modelViews.delete(key);
    }
    return withStatuses(vectorBatch(raw, entries.length), {
      modelVersion: message.modelVersion,
      featureView: served,
      trainingDatasetVersion: message.trainingDatasetVersion,
    });
  }

  async #viewOfModel(model: string, selector: { alias: string } | { version: number }): Promise<FeatureView> {
    const version = await this.modelRegistry.getModel(model, selector);
    const fv = version.featureView;
    if (!fv) throw new TypeError(`model "${model}" version ${version.version} names no feature view; register it with featureView`);
    return this.getFeatureView(fv.name, fv.version);
  }
}
