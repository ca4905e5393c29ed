import type { Client } from "@connectrpc/connect";
import { translateUpstreamError } from "@granary/service-clients";
import { FailedPreconditionError, GranaryError, NotFoundError, UnavailableError } from "@granary/errors";
import type { RegistryService } from "@granary/proto/registry";

export interface ResolvedModel {
  readonly version: number;
  readonly featureView: { readonly name: string; readonly version: number };
  readonly trainingDatasetVersion: number;
}

export interface ModelResolverOptions {
  /** A mapping read from the registry longer ago than this is never served (default 1000). */
  readonly freshMs?: number;
  /** From this age on, a call still answers from the cache but refreshes it in the background (default freshMs / 2). */
  readonly refreshAheadMs?: number;
  /** While the registry is unavailable, the last mapping is served up to this age (default 30 000). */
  readonly maxStaleMs?: number;
  /** The clock, for tests. */
  readonly now?: () => number;
}

interface Entry {
  readonly value: ResolvedModel;
  /** When the registry call that read it started: the mapping is at least this new. */
  readonly readAt: number;
}

interface Fetch {
  readonly promise: Promise<ResolvedModel>;
  readonly startedAt: number;
}

/**
 * Which feature view version (and training dataset) a model version or alias needs.
 *
 * The registry has no change stream, so freshness is a bound: a mapping is served only if the
 * registry call that read it started at most `freshMs` before the call being served. Busy traffic
 * never waits for the registry (a mapping past `refreshAheadMs` is refreshed in the background
 * while the cache answers); the first call after an idle period re-reads the mapping before it
 * answers, so an alias moved (upgrade, rollback) while the service was idle is followed at once,
 * never from a mapping up to 30 s old. Concurrent calls share one registry call.
 */
export class ModelResolver {
  readonly #registry: Client<typeof RegistryService>;
  readonly #entries = new Map<string, Entry>();
  readonly #fetches = new Map<string, Fetch>();
  readonly #freshMs: number;
  readonly #refreshAheadMs: number;
  readonly #maxStaleMs: number;
  readonly #now: () => number;

  constructor(registry: Client<typeof RegistryService>, options: ModelResolverOptions = {}) {
    this.#registry = registry;
    this.#freshMs = options.freshMs ?? 1000;
    this.#refreshAheadMs = options.refreshAheadMs ?? this.#freshMs / 2;
    this.#maxStaleMs = options.maxStaleMs ?? 30_000;
    this.#now = options.now ?? Date.now;
  }

  async resolve(project: string, model: string, selector: { alias: string } | { version: number }): Promise<ResolvedModel> {
    const key = `${project}/${model}/${"alias" in selector ? `@${selector.alias}` : selector.version}`;
    const now = this.#now();
    const entry = this.#entries.get(key);
    const age = entry ? now - entry.readAt : Infinity;
    if (entry && age < this.#freshMs) {
      if (age >= this.#refreshAheadMs) this.#fetch(key, project, model, selector).promise.catch(() => undefined);
      return entry.value;
    }
    // A registry call already under way answers as well as a cached mapping of the same age would.
    const running = this.#fetches.get(key);
    const fetch = running && now - running.startedAt < this.#freshMs ? running : this.#fetch(key, project, model, selector, true);
    try {
      return await fetch.promise;
    } catch (err) {
      // The registry cannot tell us of a change while it is unreachable: keep serving what it said last.
      if (err instanceof UnavailableError && entry && age < this.#maxStaleMs) return entry.value;
      throw err;
    }
  }

  /** One registry call per key at a time (unless `fresh` asks for one started now). */
  #fetch(key: string, project: string, model: string, selector: { alias: string } | { version: number }, fresh = false): Fetch {
    const running = this.#fetches.get(key);
    if (running && !fresh) return running;
    const startedAt = this.#now();
    const promise = this.#read(project, model, selector).then(
      (value) => {
        const current = this.#entries.get(key);
        if (!current || current.readAt <= startedAt) this.#entries.set(key, { value, readAt: startedAt });
        return value;
      },
      (err: unknown) => {
        // a deleted model or alias is not served from the cache
        if (!(err instanceof UnavailableError)) this.#entries.delete(key);
        throw err;
      },
    );
    const fetch = { promise, startedAt };
    this.#fetches.set(key, fetch);
    const done = () => {
      if (this.#fetches.get(key) === fetch) this.#fetches.delete(key);
    };
    promise.then(done, done);
    return fetch;
  }

  async #read(project: string, model: string, selector: { alias: string } | { version: number }): Promise<ResolvedModel> {
    let res;
    try {
      res = await this.#registry.getModelVersion(
        { project, model, selector: "alias" in selector ? { case: "alias", value: selector.alias } : { case: "version", value: selector.version } },
        { timeoutMs: 2000 },
      );
    } catch (err) {
      const translated = translateUpstreamError(err, { service: "the model registry", notFound: (message, cause) => new NotFoundError(message, { cause }) });
      // A failure that is not an answer about the model (a bug upstream) must not be cached as one.
      throw translated instanceof GranaryError ? translated : new UnavailableError("the model registry failed; retry shortly", { cause: err });
    }
    const mv = res.modelVersion;
    if (!mv?.featureView?.name) {
      throw new FailedPreconditionError(`model "${model}" version ${mv?.version ?? "?"} names no feature view; register it with the view it was trained on`);
    }
    return {
      version: mv.version,
      featureView: { name: mv.featureView.name, version: mv.featureView.version },
      trainingDatasetVersion: mv.trainingDatasetVersion,
    };
  }
}
