import { CommitKind, CommitState, type OnlineSyncState, type Commit } from "@granary/proto/metadata";
import { timestampMicros } from "../timestamps.js";
import { sequenceOfFile } from "./commit-paths.js";

/** What reads need of one recorded commit. */
export interface CommitEntry {
  readonly id: bigint;
  readonly kind: CommitKind;
  /** Commit sequence number: orders rows of equal key and event time; grows with the id. */
  readonly sequence: bigint;
  /** Paths relative to the data root. */
  readonly files: readonly string[];
  readonly ingestionMicros: bigint;
  readonly rowsUpdated: bigint;
  readonly minEventMicros: bigint | undefined;
  readonly maxEventMicros: bigint | undefined;
  readonly onlineSyncState: OnlineSyncState;
}

export const groupKey = (project: string, name: string, version: number) => `${project}/${name}/${version}`;

/** A commit marked FAILED: skipped by reads, kept here so the health detail can count and name it. */
export interface FailedCommit {
  readonly project: string;
  readonly name: string;
  readonly version: number;
  readonly id: bigint;
  readonly reason: string;
}

/**
 * Every recorded commit of every feature group version, in id order, fed by the metadata
 * service's change stream and by this service's own CreateCommit answers (so a read right after
 * an insert sees it). Only recorded commits exist for reads: files of a commit that was never
 * recorded are invisible, and so are commits marked FAILED (their record cannot be completed).
 */
export class CommitLog {
  readonly #groups = new Map<string, CommitEntry[]>();
  /** FAILED commits by group key, then id. */
  readonly #failed = new Map<string, Map<bigint, FailedCommit>>();

  apply(commit: Commit): CommitEntry {
    const ref = commit.featureGroup!;
    const key = groupKey(commit.project, ref.name, ref.version);
    const entry = entryOf(commit);
    let list = this.#groups.get(key);
    if (commit.state === CommitState.FAILED) {
      if (list)
        this.#groups.set(
          key,
          list.filter((c) => c.id !== entry.id),
        );
      let failed = this.#failed.get(key);
      if (!failed) this.#failed.set(key, (failed = new Map()));
      failed.set(entry.id, { project: commit.project, name: ref.name, version: ref.version, id: entry.id, reason: commit.failureReason });
      return entry;
    }
    if (!list) {
      list = [];
      this.#groups.set(key, list);
    }
    const last = list[list.length - 1];
    if (!last || last.id < entry.id) {
      list.push(entry);
    } else {
      const i = list.findIndex((c) => c.id >= entry.id);
      if (list[i]!.id === entry.id) list[i] = entry;
      else list.splice(i, 0, entry);
    }
    return entry;
  }

  dropGroup(project: string, name: string, version: number): void {
    this.#groups.delete(groupKey(project, name, version));
    this.#failed.delete(groupKey(project, name, version));
  }

  /** Commits marked FAILED, of every group still known. */
  *failed(): Iterable<FailedCommit> {
    for (const group of this.#failed.values()) yield* group.values();
  }

  get failedCount(): number {
    let n = 0;
    for (const group of this.#failed.values()) n += group.size;
    return n;
  }

  /** The group's commits in id order (a snapshot: later commits do not change it). */
  commits(project: string, name: string, version: number): readonly CommitEntry[] {
    return [...(this.#groups.get(groupKey(project, name, version)) ?? [])];
  }

  latestId(project: string, name: string, version: number): bigint {
    const list = this.#groups.get(groupKey(project, name, version));
    return list?.[list.length - 1]?.id ?? 0n;
  }

  maxSequence(project: string, name: string, version: number): bigint {
    let max = 0n;
    for (const c of this.#groups.get(groupKey(project, name, version)) ?? []) if (c.sequence > max) max = c.sequence;
    return max;
  }

  *groups(): Iterable<{ key: string; commits: readonly CommitEntry[] }> {
    for (const [key, commits] of this.#groups) yield { key, commits };
  }
}

function entryOf(c: Commit): CommitEntry {
  const first = c.files[0];
  return {
    id: c.id,
    kind: c.kind,
    sequence: first ? (sequenceOfFile(first) ?? 0n) : 0n,
    files: [...c.files],
    ingestionMicros: c.ingestionTime ? timestampMicros(c.ingestionTime) : 0n,
    rowsUpdated: c.rowsUpdated,
    minEventMicros: c.minEventTime ? timestampMicros(c.minEventTime) : undefined,
    maxEventMicros: c.maxEventTime ? timestampMicros(c.maxEventTime) : undefined,
    onlineSyncState: c.onlineSyncState,
  };
}

/** Commits visible at a watermark: every commit with id ≤ `upTo` (undefined: all). */
export function upTo(commits: readonly CommitEntry[], id: bigint | undefined): readonly CommitEntry[] {
  return id === undefined ? commits : commits.filter((c) => c.id <= id);
}

export const isInsert = (c: CommitEntry) => c.kind !== CommitKind.DELETE;
