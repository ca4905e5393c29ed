import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { ChangeKind, type Change, type FeatureGroup, type FeatureView, type MetadataService, type TrainingDataset } from "@granary/proto/metadata";

export interface CatalogueCacheLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface CatalogueCacheOptions {
  /** Only this project's definitions; empty means all. */
  project?: string;
  logger: CatalogueCacheLogger;
  /** Called after every applied change (plans compiled from a definition are dropped here). */
  onChange?: (change: Change) => void;
  /** Called when the cache becomes current or stops being so (the service's health follows it). */
  onCurrent?: (current: boolean) => void;
}

const NO_PROJECTS: ReadonlySet<string> = new Set();

const key = (project: string, name: string, version: number) => `${project}/${name}/${version}`;

/**
 * Feature groups, views and training datasets held in memory, kept current by the metadata
 * service's WatchChanges stream: a serving hot path reads definitions from here and never calls
 * metadata. The watch resumes from the last revision after any disconnect.
 */
export class CatalogueCache {
  readonly #client: Client<typeof MetadataService>;
  readonly #options: CatalogueCacheOptions;
  readonly #groups = new Map<string, FeatureGroup>();
  readonly #groupsById = new Map<bigint, FeatureGroup>();
  readonly #latestGroup = new Map<string, number>();
  readonly #groupVersions = new Map<string, Set<number>>();
  readonly #views = new Map<string, FeatureView>();
  readonly #latestView = new Map<string, number>();
  readonly #viewVersions = new Map<string, Set<number>>();
  readonly #datasets = new Map<string, TrainingDataset[]>();
  /** "<project>/<group>" → the projects it is shared with (read-only). */
  readonly #shares = new Map<string, Set<string>>();
  readonly #stop = new AbortController();
  #revision = 0n;
  #current = false;
  #running: Promise<void> | undefined;
  #firstCurrent: { promise: Promise<void>; resolve: () => void };

  constructor(client: Client<typeof MetadataService>, options: CatalogueCacheOptions) {
    this.#client = client;
    this.#options = options;
    let resolve = () => {};
    const promise = new Promise<void>((r) => (resolve = r));
    this.#firstCurrent = { promise, resolve };
  }

  /** The last revision applied. */
  get revision(): bigint {
    return this.#revision;
  }

  /** True while the watch is connected and has delivered its backlog. */
  get current(): boolean {
    return this.#current;
  }

  /** Starts watching in the background; `ready()` resolves once the cache is first current. */
  start(): void {
    this.#running ??= this.#watchForever();
  }

  ready(): Promise<void> {
    return this.#firstCurrent.promise;
  }

  async close(): Promise<void> {
    this.#stop.abort();
    await this.#running;
  }

  /** A group version; version 0 means the latest. */
  featureGroup(project: string, name: string, version = 0): FeatureGroup | undefined {
    const v = version === 0 ? this.#latestGroup.get(`${project}/${name}`) : version;
    return v === undefined ? undefined : this.#groups.get(key(project, name, v));
  }

  featureGroupById(id: bigint): FeatureGroup | undefined {
    return this.#groupsById.get(id);
  }

  /** A view version; version 0 means the latest. */
  featureView(project: string, name: string, version = 0): FeatureView | undefined {
    const v = version === 0 ? this.#latestView.get(`${project}/${name}`) : version;
    return v === undefined ? undefined : this.#views.get(key(project, name, v));
  }

  /** A training dataset of a view version; version 0 means the latest. */
  trainingDataset(project: string, viewName: string, viewVersion: number, version = 0): TrainingDataset | undefined {
    const list = this.#datasets.get(key(project, viewName, viewVersion));
    if (!list || list.length === 0) return undefined;
    return version === 0 ? list[list.length - 1] : list.find((d) => d.version === version);
  }

  /** The projects a feature group is shared with (read-only); empty when none. */
  sharedWith(project: string, group: string): ReadonlySet<string> {
    return this.#shares.get(`${project}/${group}`) ?? NO_PROJECTS;
  }

  /** Who created a feature group version (0: the latest); undefined when the cache does not know it. */
  groupCreator(project: string, group: string, version: number): string | undefined {
    return this.featureGroup(project, group, version)?.createdBy;
  }

  /** Online-enabled groups that expire rows, with their TTL in microseconds. */
  *groupsWithTtl(): Iterable<{ id: bigint; ttlMicros: bigint }> {
    for (const g of this.#groupsById.values()) {
      if (!g.onlineEnabled || !g.onlineTtl) continue;
      yield { id: g.id, ttlMicros: g.onlineTtl.seconds * 1_000_000n + BigInt(Math.floor(g.onlineTtl.nanos / 1000)) };
    }
  }

  async #watchForever(): Promise<void> {
    let backoff = 100;
    while (!this.#stop.signal.aborted) {
      try {
        for await (const res of this.#client.watchChanges(
          { project: this.#options.project ?? "", fromRevision: this.#revision },
          { signal: this.#stop.signal },
        )) {
          backoff = 100;
          if (res.change) {
            this.apply(res.change);
          } else if (res.headRevision >= this.#revision) {
            this.#setCurrent(true);
          }
        }
      } catch (err) {
        if (this.#stop.signal.aborted) break;
        const code = err instanceof ConnectError ? Code[err.code] : "unknown";
        this.#options.logger.warn({ code, err: err instanceof Error ? err.message : String(err) }, "catalogue watch interrupted; resuming");
      }
      this.#setCurrent(false);
      if (this.#stop.signal.aborted) break;
      await new Promise((r) => setTimeout(r, backoff).unref());
      backoff = Math.min(backoff * 2, 5000);
    }
    this.#setCurrent(false);
  }

  #setCurrent(current: boolean): void {
    if (current === this.#current) return;
    this.#current = current;
    if (current) this.#firstCurrent.resolve();
    this.#options.onCurrent?.(current);
  }

  /** Applies one change (exposed for unit tests of code built on the cache). */
  apply(change: Change): void {
    const deleted = change.kind === ChangeKind.DELETED;
    const r = change.resource;
    switch (r.case) {
      case "featureGroup": {
        const g = r.value;
        const k = key(g.project, g.name, g.version);
        if (deleted) {
          this.#groups.delete(k);
          this.#groupsById.delete(g.id);
        } else {
          this.#groups.set(k, g);
          this.#groupsById.set(g.id, g);
        }
        this.#track(this.#groupVersions, this.#latestGroup, g.project, g.name, g.version, deleted);
        break;
      }
      case "featureView": {
        const v = r.value;
        const k = key(v.project, v.name, v.version);
        if (deleted) this.#views.delete(k);
        else this.#views.set(k, v);
        this.#track(this.#viewVersions, this.#latestView, v.project, v.name, v.version, deleted);
        if (deleted) this.#datasets.delete(k);
        break;
      }
      case "trainingDataset": {
        const d = r.value;
        const k = key(d.project, d.featureView?.name ?? "", d.featureView?.version ?? 0);
        const list = (this.#datasets.get(k) ?? []).filter((x) => x.version !== d.version);
        if (!deleted) list.push(d);
        list.sort((a, b) => a.version - b.version);
        this.#datasets.set(k, list);
        break;
      }
      case "share": {
        const share = r.value;
        const k = `${share.project}/${share.featureGroup}`;
        const set = this.#shares.get(k) ?? new Set<string>();
        if (deleted) set.delete(share.withProject);
        else set.add(share.withProject);
        if (set.size === 0) this.#shares.delete(k);
        else this.#shares.set(k, set);
        break;
      }
      default:
        break;
    }
    if (change.revision > this.#revision) this.#revision = change.revision;
    this.#options.onChange?.(change);
  }

  /** Keeps the set of versions per name and the latest one, without scanning every definition. */
  #track(versions: Map<string, Set<number>>, latest: Map<string, number>, project: string, name: string, version: number, deleted: boolean): void {
    const k = `${project}/${name}`;
    const set = versions.get(k) ?? new Set<number>();
    if (deleted) set.delete(version);
    else set.add(version);
    if (set.size === 0) {
      versions.delete(k);
      latest.delete(k);
      return;
    }
    versions.set(k, set);
    if (!deleted && version >= (latest.get(k) ?? 0)) latest.set(k, version);
    else if (deleted && latest.get(k) === version) latest.set(k, Math.max(...set));
  }
}
