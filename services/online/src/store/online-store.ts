/** How far a write must get before it is acknowledged. */
export type Durability = "committed" | "flushed";

export interface StoredRow {
  readonly key: Buffer;
  readonly value: Buffer;
  /** The row's event time; an older row never replaces a newer one. */
  readonly eventMicros: bigint;
}

/** One write-log batch for the store: rows to upsert, or keys to delete. */
export type StoreOp = { readonly kind: "upsert"; readonly rows: readonly StoredRow[] } | { readonly kind: "delete"; readonly keys: readonly Buffer[] };

export interface AppliedOp {
  readonly written: number;
  readonly ignored: number;
  readonly deleted: number;
}

/**
 * The online store's port: latest row per key, nothing more. Joins, TTL and transformations live
 * in the read path above it, so an adapter stays small (Feast's OnlineStore has two methods).
 */
export interface OnlineStore {
  /**
   * Writes a batch as one transaction. A row whose event time is older than the stored row's is
   * skipped; equal event times are replaced (the later commit wins).
   */
  upsert(rows: readonly StoredRow[], durability: Durability, logSequence?: bigint): Promise<{ written: number; ignored: number }>;
  /** Deletes keys as one transaction; returns how many existed. */
  delete(keys: readonly Buffer[], durability: Durability, logSequence?: bigint): Promise<number>;
  /**
   * The last write-log sequence applied; 0n when none. An upsert or delete given `logSequence`
   * records it in the same transaction as its rows, so after a crash the store and its position in
   * the log agree: a replica replays from here and applies every batch exactly once.
   */
  appliedSequence(): bigint;
  /**
   * Applies write-log batches in order as ONE transaction, recording `logSequence` (the last
   * batch's) with them: group commit, so a replica keeps up with a log of many small batches.
   * Returns what each operation did.
   */
  apply(ops: readonly StoreOp[], logSequence: bigint): Promise<AppliedOp[]>;
  /** The identity of the write log the applied sequence counts in (WriteLog.identity); undefined before the first. */
  logIdentity(): string | undefined;
  setLogIdentity(identity: string): Promise<void>;
  /** Records a log position with no rows (a batch refused to the dead letters), so it is not met again. */
  recordApplied(logSequence: bigint, durability: Durability): Promise<void>;
  /**
   * The stored row, synchronously (the hot path). The returned bytes are valid only until the next
   * call: decode them before reading another key.
   */
  get(key: Buffer): Buffer | undefined;
  /** The stored bytes as a copy of their own, valid past the next read (results kept across reads). */
  getCopy(key: Buffer): Buffer | undefined;
  /**
   * Every stored row of a group, in key order, synchronously (an exact nearest-neighbour search).
   * As with `get`, each entry's bytes are valid only until the iteration moves on.
   */
  scanGroup(groupId: bigint): Iterable<{ key: Buffer; value: Buffer }>;
  /** Deletes up to `limit` rows of a group whose event time is before `beforeMicros`. */
  purgeExpired(groupId: bigint, beforeMicros: bigint, limit: number): Promise<number>;
  close(): Promise<void>;
}
