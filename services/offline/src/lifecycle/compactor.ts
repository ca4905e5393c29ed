import { UnavailableError } from "@granary/errors";
import { create } from "@bufbuild/protobuf";
import { CompactionStatsSchema, OnlineSyncState, type FeatureGroup } from "@granary/proto/metadata";
import type { CommitEntry } from "../store/commit-log.js";
import { groupKey, isInsert } from "../store/commit-log.js";
import { compactGroup, removeReplaced, replacedDirs, type CompactionDeps, type CompactionResult } from "./compaction.js";

export interface CompactorDeps extends CompactionDeps {
  /** Every feature group version the catalogue knows (the background pass walks them). */
  readonly groups: () => Iterable<FeatureGroup>;
  /** How often the background pass runs; 0: never. */
  readonly intervalMs: number;
  /** A group is compacted in the background once this many files were written since its last compaction. */
  readonly minFiles: number;
  /** How long replaced files stay for reads that started before the compaction. */
  readonly graceMs: number;
}

/** An erase waits this long before deleting the replaced files (reads in flight may fail; the bytes must go). */
const ERASE_GRACE_MS = 1000;

/**
 * Runs compactions, one at a time per group (Compact calls, erasures and the background pass
 * share a group's turn), and deletes the directories each replaced once reads that may still
 * scan them have had `graceMs` to finish. The background pass compacts a group once `minFiles`
 * files were written since its last compaction, or at once when a delete with erase waits.
 */
export class Compactor {
  readonly #deps: CompactorDeps;
  readonly #turns = new Map<string, Promise<unknown>>();
  readonly #removals = new Set<Promise<void>>();
  readonly #stop = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #pass: Promise<void> | undefined;

  constructor(deps: CompactorDeps) {
    this.#deps = deps;
  }

  /** Deletes directories an earlier run replaced but did not delete (it stopped or crashed first). Before SERVING only. */
  async removeLeftovers(): Promise<number> {
    const dirs = replacedDirs(this.#deps.commits);
    await removeReplaced(this.#deps.layout, dirs, 0);
    return dirs.length;
  }

  start(): void {
    if (this.#deps.intervalMs <= 0 || this.#timer) return;
    this.#timer = setInterval(() => {
      if (!this.#pass) this.#pass = this.#backgroundPass().finally(() => (this.#pass = undefined));
    }, this.#deps.intervalMs);
    this.#timer.unref();
  }

  /** Compacts a group now; the replaced files go after the grace period. */
  compact(project: string, group: FeatureGroup, signal?: AbortSignal): Promise<CompactionResult> {
    return this.#inTurn(project, group, async () => {
      const result = await compactGroup(this.#deps, project, group, signal);
      this.#removeLater(result.replaced, this.#deps.graceMs);
      return result;
    });
  }

  /**
   * Carries out a delete with erase: compacts the group through it and deletes the replaced files
   * before answering. The delete must have reached the online store (its tombstones are read from
   * its file until then), which DeleteRows waits for first.
   */
  erase(project: string, group: FeatureGroup, erase: CommitEntry, signal?: AbortSignal): Promise<CompactionResult> {
    return this.#inTurn(project, group, async () => {
      const done = this.#deps.commits.commits(project, group.name, group.version).find((c) => c.part)?.part;
      if (done && done.compaction.compaction!.through >= erase.id)
        return { commit: undefined, stats: create(CompactionStatsSchema, {}), seconds: 0, replaced: [] };
      const result = await compactGroup(this.#deps, project, group, signal);
      if (!result.commit || result.commit.compactedThrough < erase.id) {
        this.#removeLater(result.replaced, this.#deps.graceMs);
        throw new UnavailableError(
          `the delete is committed (commit ${erase.id}) and hidden from reads, but its keys are not erased from the files yet: an earlier commit of the group is still being copied online; the erasure runs in the background once it is (or call DeleteRows with erase again)`,
        );
      }
      await removeReplaced(this.#deps.layout, result.replaced, ERASE_GRACE_MS);
      return result;
    });
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#stop.abort();
    await this.#pass;
    await Promise.allSettled([...this.#turns.values()]);
    await Promise.allSettled([...this.#removals]);
  }

  #inTurn<T>(project: string, group: FeatureGroup, fn: () => Promise<T>): Promise<T> {
    const key = groupKey(project, group.name, group.version);
    const previous = this.#turns.get(key) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(fn);
    this.#turns.set(key, next);
    void next
      .finally(() => {
        if (this.#turns.get(key) === next) this.#turns.delete(key);
      })
      .catch(() => undefined);
    return next;
  }

  #removeLater(dirs: readonly string[], graceMs: number): void {
    if (dirs.length === 0) return;
    const removal = removeReplaced(this.#deps.layout, dirs, graceMs, this.#stop.signal).catch((err: unknown) =>
      this.#deps.logger.warn({ err, dirs: dirs.length }, "could not delete directories a compaction replaced; the next start deletes them"),
    );
    this.#removals.add(removal);
    void removal.finally(() => this.#removals.delete(removal));
  }

  async #backgroundPass(): Promise<void> {
    for (const group of [...this.#deps.groups()]) {
      if (this.#stop.signal.aborted) return;
      const project = group.project;
      // What a compaction would take: the commits after the last one, up to the first still PENDING online.
      const fresh: CommitEntry[] = [];
      for (const c of this.#deps.commits.commits(project, group.name, group.version)) {
        if (c.part) continue;
        if (c.onlineSyncState === OnlineSyncState.PENDING) break;
        fresh.push(c);
      }
      const files = fresh.reduce((n, c) => n + c.files.length, 0);
      const erasing = fresh.some((c) => c.erase && !isInsert(c));
      if (!erasing && files < this.#deps.minFiles) continue;
      try {
        await this.compact(project, group, this.#stop.signal);
      } catch (err) {
        if (this.#stop.signal.aborted) return;
        this.#deps.logger.warn({ err, project, group: group.name, version: group.version }, "background compaction failed; it is tried again in the next pass");
      }
    }
  }
}
