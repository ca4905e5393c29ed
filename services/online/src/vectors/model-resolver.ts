import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { FailedPreconditionError, NotFoundError, UnavailableError } from "@granary/errors";
import type { RegistryService } from "@granary/proto/registry";

export interface ResolvedModel {
  readonly version: number;
  readonly featureView: { readonly name: string; readonly version: number };
  readonly trainingDatasetVersion: number;
}

interface Entry {
  value: ResolvedModel;
  fetchedAt: number;
  refreshing: boolean;
}

/**
 * Which feature view version (and training dataset) a model version or alias needs. Answers from a
 * cache refreshed in the background once an entry is older than `freshMs`, so moving an alias
 * (upgrade, rollback) reaches the serving path within about a second without a registry call on
 * every request; an entry older than `maxStaleMs` is fetched before answering.
 */
export class ModelResolver {
  readonly #registry: Client<typeof RegistryService>;
  readonly #entries = new Map<string, Entry>();
  readonly #freshMs: number;
  readonly #maxStaleMs: number;

  constructor(registry: Client<typeof RegistryService>, options: { freshMs?: number; maxStaleMs?: number } = {}) {
    this.#registry = registry;
    this.#freshMs = options.freshMs ?? 1000;
    this.#maxStaleMs = options.maxStaleMs ?? 30_000;
  }

  async resolve(project: string, model: string, selector: { alias: string } | { version: number }): Promise<ResolvedModel> {
    const key = `${project}/${model}/${"alias" in selector ? `@${selector.alias}` : selector.version}`;
    const entry = this.#entries.get(key);
    const age = entry ? Date.now() - entry.fetchedAt : Infinity;
    if (entry && age < this.#freshMs) return entry.value;
    if (entry && age < this.#maxStaleMs) {
      if (!entry.refreshing) {
        entry.refreshing = true;
        this.#fetch(project, model, selector)
          .then((value) => this.#entries.set(key, { value, fetchedAt: Date.now(), refreshing: false }))
          .catch(() => {
            entry.refreshing = false;
            // a deleted model or alias must not be served from the cache for long
            this.#entries.delete(key);
          });
      }
      return entry.value;
    }
    const value = await this.#fetch(project, model, selector);
    this.#entries.set(key, { value, fetchedAt: Date.now(), refreshing: false });
    return value;
  }

  async #fetch(project: string, model: string, selector: { alias: string } | { version: number }): Promise<ResolvedModel> {
    let res;
    try {
      res = await this.#registry.getModelVersion(
        { project, model, selector: "alias" in selector ? { case: "alias", value: selector.alias } : { case: "version", value: selector.version } },
        { timeoutMs: 2000 },
      );
    } catch (err) {
      const e = ConnectError.from(err);
      if (e.code === Code.NotFound) throw new NotFoundError(e.rawMessage);
      if (e.code === Code.InvalidArgument || e.code === Code.FailedPrecondition) throw new FailedPreconditionError(e.rawMessage);
      throw new UnavailableError("the model registry is unavailable; retry shortly", { cause: err });
    }
    const mv = res.modelVersion;
    if (!mv?.featureView?.name) {
      throw new FailedPreconditionError(`model "${model}" version ${mv?.version ?? "?"} names no feature view; register it with the view it was trained on`);
    }
    return { version: mv.version, featureView: { name: mv.featureView.name, version: mv.featureView.version }, trainingDatasetVersion: mv.trainingDatasetVersion };
  }
}
