import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
import { metrics } from "@opentelemetry/api";
import type { FeatureGroup } from "@granary/proto/metadata";
import type { Logger } from "@granary/telemetry";
import { groupIdOfKey, groupPrefix } from "../store/key-codec.js";
import type { RowChangeListener, StoreRecords } from "../store/row-changes.js";
import { EXACT_SEARCH_THRESHOLD, REBUILD_AFTER_REMOVED, REBUILD_MIN_REMOVED, SAVE_INTERVAL_MS } from "./index-parameters.js";
import { labelOf, labelRecords, pendingRecords, pendingValue, readPending } from "./labels.js";
import { RowEmbeddings } from "./row-embeddings.js";
import { VectorIndex } from "./vector-index.js";

/** What the indexes need of the LMDB store: scans, reads, and writes of their own records. */
export interface AnnStore {
  get(key: Buffer): Buffer | undefined;
  range(start: Buffer, end: Buffer): Iterable<{ key: Buffer; value: Buffer }>;
  writeRecords(work: (records: StoreRecords) => void): Promise<void>;
  listen(listener: RowChangeListener): void;
}

/** The files an index leaves in its directory: `<group id>-<column>.usearch`, its `.json`, and their temporary files. */
const INDEX_FILE = /^\d+-.+\.usearch(\.json)?(\.tmp)?$/;

/** Rows read per step of a build from the store's rows (the event loop turns between steps). */
const BUILD_CHUNK = 2_000;

interface ColumnIndex {
  readonly column: string;
  readonly file: string;
  /** Replaced by a rebuilt graph once churn has degraded it (see #maybeRebuild). */
  index: VectorIndex;
  /** A graph being rebuilt from the rows beside the serving one; changes go to both until it replaces it. */
  rebuild: VectorIndex | undefined;
  /** Building from the rows: searches go to an exact scan until it is done. */
  building: boolean;
  dirty: boolean;
}

interface GroupIndexes {
  readonly group: FeatureGroup;
  readonly columns: ColumnIndex[];
  readonly embeddings: RowEmbeddings;
  /** Changes heard in the current write transaction, applied as a batch when it settles: label → embeddings (undefined: removed). */
  readonly batch: Map<bigint, (Float32Array | undefined)[]>;
  /** Set when the group's indexes change or it is dropped: a build in progress stops. */
  cancelled: boolean;
  /** Row changes since the indexes were last saved (the pending records a restart would replay). */
  unsaved: number;
}

/**
 * The nearest-neighbour indexes of this replica's online store: one usearch index per indexed
 * embedding column of each online group version, kept by the store's one writer (the only process,
 * or the cluster primary) from the same write transactions as the rows.
 *
 * Crash consistency: every row change of an indexed group writes, in its own LMDB transaction, a
 * pending record (group, label → change sequence, row key) and the label record (label → row key),
 * and applies the change to the in-memory index before the transaction commits. A saver writes
 * the changed indexes beside the LMDB environment (temporary file, fsync, rename) and then deletes
 * the pending records the saved files include. At start an index file is loaded (or rebuilt from
 * the group's rows when it is missing, damaged or built with other parameters) and every pending
 * record of its group is applied again from the row as it is now, so after kill -9 the index holds
 * exactly the committed rows. Searches check each candidate against its row (distance, TTL, filter)
 * so what they return always agrees with the store.
 */
export class AnnIndexes implements RowChangeListener {
  readonly #store: AnnStore;
  readonly #dir: string;
  readonly #log: Logger;
  readonly #groups = new Map<bigint, GroupIndexes>();
  #sequence = 0;
  #timer: NodeJS.Timeout | undefined;
  #saving: Promise<void> | undefined;
  #collisions = 0;
  readonly #builds = new Set<Promise<void>>();

  readonly #exactBelow: number;

  constructor(store: AnnStore, options: { dir: string; log: Logger; exactBelow?: number }) {
    this.#store = store;
    this.#dir = options.dir;
    this.#log = options.log;
    this.#exactBelow = options.exactBelow ?? EXACT_SEARCH_THRESHOLD;
    const dir = options.dir;
    mkdirSync(dir, { recursive: true });
    const { start, end } = pendingRecords.all();
    for (const { value } of store.range(start, end)) this.#sequence = Math.max(this.#sequence, readPending(value).sequence);
    store.listen(this);
  }

  /** Saves changed indexes every `intervalMs` until stopped, and reports their size in metrics. */
  start(intervalMs = SAVE_INTERVAL_MS): void {
    this.#timer = setInterval(() => void this.save(), intervalMs);
    this.#timer.unref();
    const meter = metrics.getMeter("granary.online");
    const attributes = (g: GroupIndexes) => ({ project: g.group.project, feature_group: g.group.name, version: g.group.version });
    meter
      .createObservableGauge("granary.online.ann.vectors", {
        unit: "{vector}",
        description: "Vectors in each nearest-neighbour index (per group version and column)",
      })
      .addCallback((result) => {
        for (const g of this.#groups.values())
          for (const c of g.columns) result.observe(c.index.size(), { ...attributes(g), column: c.column, building: c.building });
      });
    meter
      .createObservableGauge("granary.online.ann.unsaved_changes", {
        unit: "{change}",
        description: "Row changes of indexed groups since their indexes were last saved (replayed from LMDB at a restart)",
      })
      .addCallback((result) => {
        for (const g of this.#groups.values()) result.observe(g.unsaved, attributes(g));
      });
  }

  /** Stops saving and building; saves what changed once more. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    for (const g of this.#groups.values()) g.cancelled = true;
    await Promise.all(this.#builds);
    await this.save();
  }

  /**
   * Follows a group definition from the catalogue (created, changed, deleted): opens the indexes it
   * declares that are not open, drops those it no longer declares. A group that is not online has none.
   */
  syncGroup(group: FeatureGroup, deleted: boolean): void {
    const wanted = deleted || !group.onlineEnabled ? [] : group.embeddingIndexes;
    const current = this.#groups.get(group.id);
    const same =
      current !== undefined &&
      current.columns.length === wanted.length &&
      wanted.every((w) => current.columns.some((c) => c.column === w.column && c.index.description.metric === w.metric)) &&
      current.group.columns.length === group.columns.length;
    if (same) return;
    if (current) {
      current.cancelled = true;
      this.#groups.delete(group.id);
      for (const c of current.columns) {
        if (!wanted.some((w) => w.column === c.column && w.metric === c.index.description.metric)) VectorIndex.remove(c.file);
      }
    }
    if (wanted.length === 0) {
      if (current) void this.#dropRecords(group.id);
      return;
    }
    const columns = wanted.map((w) => {
      const type = group.columns.find((c) => c.name === w.column)!.type!;
      const description = VectorIndex.describe(group.id, w.column, w.metric, type.dimension);
      const file = join(this.#dir, `${group.id}-${w.column}.usearch`);
      const loaded = VectorIndex.load(file, description);
      return { column: w.column, file, index: loaded ?? new VectorIndex(description), rebuild: undefined, building: loaded === undefined, dirty: false };
    });
    const g: GroupIndexes = {
      group,
      columns,
      embeddings: new RowEmbeddings(
        group,
        wanted.map((w) => w.column),
      ),
      batch: new Map(),
      cancelled: false,
      unsaved: 0,
    };
    this.#groups.set(group.id, g);
    const loaded = columns.filter((c) => !c.building);
    if (loaded.length > 0) {
      const replayed = this.#replayPending(g, loaded);
      this.#log.info({ group: group.name, version: group.version, columns: loaded.map((c) => c.column), replayed }, "embedding indexes loaded");
    }
    const missing = columns.filter((c) => c.building);
    if (missing.length > 0) this.#track(this.#build(g, missing));
  }

  /**
   * Labels of about `count` nearest rows, or undefined when an exact scan should answer: the column
   * has no index ready here, or it holds no more vectors than the exact-search threshold.
   */
  candidates(groupId: bigint, column: string, query: Float32Array, count: number): BigUint64Array | undefined {
    const c = this.#groups.get(groupId)?.columns.find((x) => x.column === column);
    if (!c || c.building || c.index.size() <= this.#exactBelow) return undefined;
    return c.index.search(query, count);
  }

  /** Indexed vectors of a column (undefined when it has no index here), for gauges and tests. */
  size(groupId: bigint, column: string): number | undefined {
    return this.#groups
      .get(groupId)
      ?.columns.find((x) => x.column === column)
      ?.index.size();
  }

  /** Labels two keys shared since start (their rows are found by exact search only). */
  get collisions(): number {
    return this.#collisions;
  }

  // RowChangeListener: inside the store's write transaction.

  changed(key: Buffer, value: Buffer | undefined, records: StoreRecords): void {
    if (this.#groups.size === 0) return;
    const g = this.#groups.get(groupIdOfKey(key));
    if (!g) return;
    const groupId = g.group.id;
    const label = labelOf(key);
    const labelKey = labelRecords.key(groupId, label);
    const owner = records.get(labelKey);
    if (owner !== undefined && !owner.equals(key)) {
      this.#collisions++;
      this.#log.warn({ group: g.group.name, version: g.group.version }, "two keys share an index label; the second is found by exact search only");
      return;
    }
    records.put(pendingRecords.key(groupId, label), pendingValue(++this.#sequence, key));
    g.unsaved++;
    if (value === undefined) {
      if (owner !== undefined) records.remove(labelKey);
      g.batch.set(
        label,
        g.columns.map(() => undefined),
      );
    } else {
      if (owner === undefined) records.put(labelKey, key);
      g.batch.set(label, g.embeddings.read(value));
    }
  }

  settle(): void {
    for (const g of this.#groups.values()) {
      if (g.batch.size === 0) continue;
      this.#applyBatch(g);
    }
  }

  failed(keys: readonly Buffer[]): void {
    // The rows are as they were; bring what was applied of them back in step.
    const byGroup = new Map<GroupIndexes, Buffer[]>();
    for (const key of keys) {
      const g = this.#groups.get(groupIdOfKey(key));
      if (g) byGroup.set(g, [...(byGroup.get(g) ?? []), key]);
    }
    for (const [g, groupKeys] of byGroup) {
      for (const key of groupKeys) {
        const row = this.#store.get(key);
        g.batch.set(labelOf(key), row === undefined ? g.columns.map(() => undefined) : g.embeddings.read(row));
      }
      this.#applyBatch(g);
    }
  }

  #applyBatch(g: GroupIndexes, only?: readonly ColumnIndex[]): void {
    g.columns.forEach((c, slot) => {
      if (only && !only.includes(c)) return;
      const dimension = c.index.description.dimension;
      const removed: bigint[] = [];
      const added: bigint[] = [];
      const vectors: Float32Array[] = [];
      for (const [label, embeddings] of g.batch) {
        const v = embeddings[slot];
        if (v) {
          added.push(label);
          vectors.push(v);
        } else removed.push(label);
      }
      const removedLabels = BigUint64Array.from(removed);
      const addedLabels = BigUint64Array.from(added);
      const matrix = new Float32Array(added.length * dimension);
      vectors.forEach((v, i) => matrix.set(v, i * dimension));
      for (const index of c.rebuild ? [c.index, c.rebuild] : [c.index]) {
        index.remove(removedLabels);
        index.upsert(addedLabels, matrix);
      }
      c.dirty = true;
    });
    g.batch.clear();
    this.#maybeRebuild(g);
  }

  /**
   * Rebuilds, from the group's rows, each graph that churn has degraded (more removed vectors since
   * its build than REBUILD_AFTER_REMOVED of its size): into a new graph beside the serving one,
   * which every change meanwhile also reaches, swapped in when the rows are all read. A group of
   * up to BUILD_CHUNK rows is rebuilt at once; a larger one a chunk per event-loop turn, while the
   * old graph serves (twice the memory until the swap).
   */
  #maybeRebuild(g: GroupIndexes): void {
    const degraded = g.columns.filter(
      (c) =>
        !c.building &&
        !c.rebuild &&
        c.index.removedSinceBuild >= REBUILD_MIN_REMOVED &&
        c.index.removedSinceBuild > REBUILD_AFTER_REMOVED * Math.max(1, c.index.size()),
    );
    if (degraded.length === 0 || g.cancelled) return;
    for (const c of degraded) c.rebuild = new VectorIndex(c.index.description);
    this.#track(this.#rebuild(g, degraded));
  }

  async #rebuild(g: GroupIndexes, columns: readonly ColumnIndex[]): Promise<void> {
    const startedAt = Date.now();
    const removed = columns.map((c) => c.index.removedSinceBuild);
    let from = groupPrefix(g.group.id);
    const end = groupPrefix(g.group.id + 1n);
    for (;;) {
      if (g.cancelled) return;
      const labels: bigint[] = [];
      const rows: (Float32Array | undefined)[][] = [];
      let last: Buffer | undefined;
      for (const { key, value } of this.#store.range(from, end)) {
        last = Buffer.from(key);
        labels.push(labelOf(last));
        rows.push(g.embeddings.read(value));
        if (labels.length >= BUILD_CHUNK) break;
      }
      for (const c of columns) {
        const slot = g.columns.indexOf(c);
        const dimension = c.index.description.dimension;
        const present = labels.flatMap((label, i) => (rows[i]![slot] ? [{ label, vector: rows[i]![slot]! }] : []));
        const matrix = new Float32Array(present.length * dimension);
        present.forEach(({ vector }, i) => matrix.set(vector, i * dimension));
        c.rebuild!.upsert(
          BigUint64Array.from(present, (p) => p.label),
          matrix,
        );
      }
      if (labels.length < BUILD_CHUNK || last === undefined) break;
      from = Buffer.concat([last, Buffer.from([0])]);
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (g.cancelled) return;
    for (const c of columns) {
      c.index = c.rebuild!;
      c.rebuild = undefined;
      c.dirty = true;
    }
    this.#log.info(
      { group: g.group.name, version: g.group.version, columns: columns.map((c) => c.column), removed, ms: Date.now() - startedAt },
      "embedding index rebuilt after churn (removed vectors leave HNSW nodes unreachable)",
    );
  }

  /** Applies every pending change of a group again, from its rows as they are now; returns how many. */
  #replayPending(g: GroupIndexes, columns: readonly ColumnIndex[]): number {
    const { start, end } = pendingRecords.range(g.group.id);
    let n = 0;
    for (const { value } of this.#store.range(start, end)) {
      const { rowKey } = readPending(value);
      const row = this.#store.get(rowKey);
      g.batch.set(labelOf(rowKey), row === undefined ? g.columns.map(() => undefined) : g.embeddings.read(row));
      n++;
      if (g.batch.size >= BUILD_CHUNK) this.#applyBatch(g, columns);
    }
    this.#applyBatch(g, columns);
    return n;
  }

  /**
   * Builds indexes from the group's rows, a chunk per event-loop turn; changes meanwhile reach the
   * index through the write path, and the pending records written meanwhile are applied at the end.
   */
  async #build(g: GroupIndexes, columns: readonly ColumnIndex[]): Promise<void> {
    const groupId = g.group.id;
    const startedAt = Date.now();
    let from = groupPrefix(groupId);
    const end = groupPrefix(groupId + 1n);
    let rows = 0;
    for (;;) {
      if (g.cancelled) return;
      const keys: Buffer[] = [];
      for (const { key, value } of this.#store.range(from, end)) {
        if (keys.length > 0 && keys[keys.length - 1]!.equals(key)) continue;
        const k = Buffer.from(key);
        keys.push(k);
        g.batch.set(labelOf(k), g.embeddings.read(value));
        if (keys.length >= BUILD_CHUNK) break;
      }
      if (keys.length === 0) break;
      rows += keys.length;
      this.#applyBatch(g, columns);
      // Label records for rows written before the index existed; a label taken by another key stays its.
      await this.#store.writeRecords((records) => {
        for (const key of keys) {
          const labelKey = labelRecords.key(groupId, labelOf(key));
          if (records.get(labelKey) === undefined && this.#store.get(key) !== undefined) records.put(labelKey, key);
        }
      });
      const last = keys[keys.length - 1]!;
      from = Buffer.concat([last, Buffer.from([0])]);
      if (keys.length < BUILD_CHUNK) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (g.cancelled) return;
    this.#replayPending(g, columns);
    for (const c of columns) {
      c.building = false;
      c.dirty = true;
    }
    this.#log.info(
      { group: g.group.name, version: g.group.version, columns: columns.map((c) => c.column), rows, ms: Date.now() - startedAt },
      "embedding indexes built",
    );
  }

  #track(build: Promise<void>): void {
    const tracked = build.catch((err: unknown) => this.#log.error({ err }, "building an embedding index failed"));
    this.#builds.add(tracked);
    void tracked.finally(() => this.#builds.delete(tracked));
  }

  /** Resolves once no index is building (tests, and callers that want searches to use the index). */
  async settled(): Promise<void> {
    while (this.#builds.size > 0) await Promise.all(this.#builds);
  }

  /**
   * Writes every changed index to its file, then deletes the pending records of groups whose
   * indexes are all saved and that no change has touched since (sequence at or below the snapshot).
   */
  save(): Promise<void> {
    this.#saving ??= (async () => {
      try {
        const watermark = this.#sequence;
        const saved: bigint[] = [];
        for (const g of this.#groups.values()) {
          if (g.columns.some((c) => c.building)) continue;
          g.unsaved = 0;
          for (const c of g.columns) {
            if (!c.dirty) continue;
            // Clean from the moment of the write: a change while the file is synced and hashed marks it dirty again.
            c.dirty = false;
            try {
              await c.index.save(c.file);
            } catch (err) {
              c.dirty = true;
              throw err;
            }
          }
          saved.push(g.group.id);
        }
        if (saved.length === 0) return;
        await this.#store.writeRecords((records) => {
          for (const groupId of saved) {
            const { start, end } = pendingRecords.range(groupId);
            for (const { key } of this.#store.range(start, end)) {
              // Read again through the transaction: a change committed since the range's snapshot
              // may have replaced the record with a later sequence, which must stay.
              const own = Buffer.from(key);
              const current = records.get(own);
              if (current !== undefined && readPending(current).sequence <= watermark) records.remove(own);
            }
          }
        });
      } catch (err) {
        this.#log.error({ err }, "saving embedding indexes failed; their pending changes are kept and applied again at start");
      } finally {
        this.#saving = undefined;
      }
    })();
    return this.#saving;
  }

  /**
   * Deletes what no open index owns: index files of groups deleted or changed while this process was
   * down (their drop was never heard), temporary files of a save a crash interrupted, and the label
   * and pending records of such groups. Call once the catalogue has been loaded, so every group that
   * has indexes has opened them. Returns how many files and groups' records went.
   */
  async removeOrphans(): Promise<{ files: number; groups: number }> {
    const owned = new Set<string>();
    for (const g of this.#groups.values()) {
      for (const c of g.columns) {
        owned.add(basename(c.file));
        owned.add(`${basename(c.file)}.json`);
      }
    }
    let files = 0;
    for (const name of readdirSync(this.#dir)) {
      if (owned.has(name) || !INDEX_FILE.test(name)) continue;
      // The temporary files of a save in progress are that save's.
      if (this.#saving && owned.has(name.replace(/\.tmp$/, ""))) continue;
      rmSync(join(this.#dir, name), { force: true });
      files++;
    }
    const orphaned = new Set<bigint>();
    for (const records of [labelRecords, pendingRecords]) {
      for (const groupId of this.#groupsWithRecords(records)) if (!this.#groups.has(groupId)) orphaned.add(groupId);
    }
    for (const groupId of orphaned) await this.#dropRecords(groupId);
    if (files > 0 || orphaned.size > 0) this.#log.info({ files, groups: orphaned.size }, "removed the indexes of groups that no longer have them");
    return { files, groups: orphaned.size };
  }

  /** The groups that have records of a kind, found by seeking from one group to the next (not by reading every record). */
  *#groupsWithRecords(records: typeof labelRecords): Iterable<bigint> {
    const { end } = records.all();
    let from = records.all().start;
    for (;;) {
      let next: bigint | undefined;
      for (const { key } of this.#store.range(from, end)) {
        next = records.groupOf(key);
        break;
      }
      if (next === undefined) return;
      yield next;
      from = records.range(next + 1n).start;
    }
  }

  /** Deletes the label and pending records of a group that has no index any more. */
  async #dropRecords(groupId: bigint): Promise<void> {
    try {
      await this.#store.writeRecords((records) => {
        for (const range of [labelRecords.range(groupId), pendingRecords.range(groupId)]) {
          for (const { key } of this.#store.range(range.start, range.end)) records.remove(Buffer.from(key));
        }
      });
    } catch (err) {
      this.#log.warn({ err, groupId: groupId.toString() }, "could not delete the records of a dropped embedding index");
    }
  }
}
