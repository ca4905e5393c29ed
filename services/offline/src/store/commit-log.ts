import { CommitKind, CommitState, type OnlineSyncState, type Commit } from "@granary/proto/metadata";
import { OutOfRangeError } from "@granary/errors";
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
  /** A DELETE whose keys' rows are erased from the files of every version (carried out by compaction). */
  readonly erase?: boolean;
  /** COMPACTION records only: what the compaction replaced and wrote. */
  readonly compaction?: CompactionInfo;
  /**
   * Set on the two parts a compaction is read as (see readableCommits): the compaction and the
   * commits it covers, whose own files are gone.
   */
  readonly part?: CompactionPart;
  /** A compaction part read as of a compacted commit: only rows with `_seq` ≤ this are read. */
  readonly readBound?: bigint;
}

export interface CompactionInfo {
  /** Its files replace those of every commit with id ≤ this (and of earlier compactions). */
  readonly through: bigint;
  readonly tombstoneFiles: readonly string[];
  /** Reads as of a commit ingested before this are refused (rows they need may be gone). */
  readonly retainedFromMicros: bigint | undefined;
}

export interface CompactionPart {
  readonly compaction: CommitEntry;
  /** The ordinary commits it covers (id ≤ through), in id order. */
  readonly covered: readonly CommitEntry[];
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
  /** readableCommits of each group's list, until the list changes. */
  readonly #readable = new Map<string, readonly CommitEntry[]>();
  /** FAILED commits by group key, then id. */
  readonly #failed = new Map<string, Map<bigint, FailedCommit>>();

  apply(commit: Commit): CommitEntry {
    const ref = commit.featureGroup!;
    const key = groupKey(commit.project, ref.name, ref.version);
    const entry = entryOf(commit);
    this.#readable.delete(key);
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
    this.#readable.delete(groupKey(project, name, version));
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

  /**
   * What reads of the group scan now, in id order (a snapshot: later commits do not change it):
   * the newest compaction's parts, then the commits after it (see readableCommits). Cut it at a
   * commit or a time with upTo / commitsAsOf, never by filtering ids.
   */
  commits(project: string, name: string, version: number): readonly CommitEntry[] {
    const key = groupKey(project, name, version);
    let readable = this.#readable.get(key);
    if (!readable) {
      readable = readableCommits(this.#groups.get(key) ?? []);
      this.#readable.set(key, readable);
    }
    return readable;
  }

  /** Every recorded commit of the group in id order, compactions and the commits they replaced included. */
  history(project: string, name: string, version: number): readonly CommitEntry[] {
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
    erase: c.erase,
    ...(c.kind === CommitKind.COMPACTION
      ? {
          compaction: {
            through: c.compactedThrough,
            tombstoneFiles: [...c.tombstoneFiles],
            retainedFromMicros: c.retainedFrom ? timestampMicros(c.retainedFrom) : undefined,
          },
        }
      : {}),
  };
}

/** The parts of each compaction entry, made once (files are checked per entry object). */
const partsCache = new WeakMap<CommitEntry, readonly CommitEntry[]>();

/**
 * What reads scan, from a group's recorded commits in id order: the files of the newest
 * compaction replace those of every commit it covers (id ≤ its `through`) and of older
 * compactions, which are deleted once no read needs them. A compaction is read as two parts — its
 * rows (an insert whose rows keep their commits' sequence numbers) and its tombstones (a delete) —
 * standing where the commits it covers stood; the commits after it follow as they are.
 */
export function readableCommits(history: readonly CommitEntry[]): readonly CommitEntry[] {
  let newest: CommitEntry | undefined;
  for (const c of history) if (c.compaction) newest = c;
  if (!newest) return [...history];
  const through = newest.compaction!.through;
  const ordinary = history.filter((c) => !c.compaction);
  let parts = partsCache.get(newest);
  if (!parts) {
    parts = partsOf(newest, { compaction: newest, covered: ordinary.filter((c) => c.id <= through) });
    partsCache.set(newest, parts);
  }
  return [...parts, ...ordinary.filter((c) => c.id > through)];
}

function partsOf(compaction: CommitEntry, part: CompactionPart, readBound?: bigint): readonly CommitEntry[] {
  const info = compaction.compaction!;
  const last = part.covered[part.covered.length - 1];
  const base = {
    id: info.through,
    sequence: compaction.sequence,
    ingestionMicros: last?.ingestionMicros ?? compaction.ingestionMicros,
    onlineSyncState: compaction.onlineSyncState,
    erase: false,
    part,
    ...(readBound === undefined ? {} : { readBound }),
  };
  const rows: CommitEntry = {
    ...base,
    kind: CommitKind.INSERT,
    files: compaction.files,
    rowsUpdated: compaction.rowsUpdated,
    minEventMicros: compaction.minEventMicros,
    maxEventMicros: compaction.maxEventMicros,
  };
  if (info.tombstoneFiles.length === 0) return [rows];
  const tombstones: CommitEntry = {
    ...base,
    kind: CommitKind.DELETE,
    files: info.tombstoneFiles,
    rowsUpdated: 0n,
    minEventMicros: undefined,
    maxEventMicros: undefined,
  };
  return [rows, tombstones];
}

/** Bounded parts by compaction and bound: the same objects for the same cut, so their files are checked once. */
const boundedCache = new WeakMap<CommitEntry, Map<bigint, readonly CommitEntry[]>>();

/**
 * The commits a read sees at a cut: the ordinary commits `include` accepts (a prefix in id order:
 * id ≤ N, or ingested by t), from readableCommits output. A compaction's parts stay whole when the
 * cut reaches its last covered commit; a cut inside what it covers reads its rows only up to the
 * cut's sequence number (rows keep their commits' numbers, so that is exact) — unless the cut is
 * older than the compaction's retention, whose removed rows it may need: OutOfRangeError.
 */
export function cutCommits(readable: readonly CommitEntry[], include: (c: CommitEntry) => boolean, what: () => string): readonly CommitEntry[] {
  const out: CommitEntry[] = [];
  const first = readable[0];
  const part = first?.part;
  const later = part ? readable.filter((c) => !c.part) : readable;
  const included = later.filter(include);
  if (part) {
    const reachesAll = included.length > 0 || (part.covered.length > 0 && include(part.covered[part.covered.length - 1]!));
    const parts = readable.filter((c) => c.part);
    if (reachesAll) {
      out.push(...parts);
    } else {
      let cut: CommitEntry | undefined;
      for (const c of part.covered) if (include(c)) cut = c;
      if (cut) {
        const retained = part.compaction.compaction!.retainedFromMicros;
        if (retained !== undefined && cut.ingestionMicros < retained) {
          throw new OutOfRangeError(
            `${what()} reaches back to commit ${cut.id}, but its history is kept only from ${new Date(Number(retained / 1000n)).toISOString()} (offline_retention): read as of a later commit or time`,
          );
        }
        let byBound = boundedCache.get(part.compaction);
        if (!byBound) boundedCache.set(part.compaction, (byBound = new Map()));
        let bounded = byBound.get(cut.sequence);
        if (!bounded) byBound.set(cut.sequence, (bounded = partsOf(part.compaction, part, cut.sequence)));
        out.push(...bounded);
      }
    }
  }
  out.push(...included);
  return out;
}

/** Commits visible at a watermark: every commit with id ≤ `upTo` (undefined: all). */
export function upTo(commits: readonly CommitEntry[], id: bigint | undefined, what: () => string = () => "the read"): readonly CommitEntry[] {
  return id === undefined ? commits : cutCommits(commits, (c) => c.id <= id, what);
}

/** Rows of an insert (or of a compaction's rows part); tombstones are DELETE, compaction records neither. */
export const isInsert = (c: CommitEntry) => c.kind !== CommitKind.DELETE && c.kind !== CommitKind.COMPACTION;
