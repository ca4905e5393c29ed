import type { LmdbOnlineStore } from "../store/lmdb-online-store.js";
import type { AppliedOp, Durability, OnlineStore, StoredRow, StoreOp } from "../store/online-store.js";
import type { PrimaryCalls } from "./primary-calls.js";

/**
 * The online store as a worker process sees it: reads from its own read-only LMDB environment,
 * writes forwarded to the primary, the environment's one writer. A write resolves once the primary
 * has committed it, so a read that follows it, in any worker, sees it (each event turn here starts
 * from a fresh snapshot: see get).
 */
export class WorkerOnlineStore implements OnlineStore {
  readonly #reader: LmdbOnlineStore;
  readonly #primary: PrimaryCalls;
  #fresh = false;

  constructor(reader: LmdbOnlineStore, primary: PrimaryCalls) {
    this.#reader = reader;
    this.#primary = primary;
  }

  get(key: Buffer): Buffer | undefined {
    this.#refresh();
    return this.#reader.get(key);
  }

  getCopy(key: Buffer): Buffer | undefined {
    this.#refresh();
    return this.#reader.getCopy(key);
  }

  scanGroup(groupId: bigint): Iterable<{ key: Buffer; value: Buffer }> {
    this.#refresh();
    return this.#reader.scanGroup(groupId);
  }

  appliedSequence(): bigint {
    this.#refresh();
    return this.#reader.appliedSequence();
  }

  logIdentity(): string | undefined {
    this.#refresh();
    return this.#reader.logIdentity();
  }

  upsert(rows: readonly StoredRow[], durability: Durability, logSequence?: bigint): Promise<{ written: number; ignored: number }> {
    return this.#primary.call("upsert", rows, durability, logSequence);
  }

  delete(keys: readonly Buffer[], durability: Durability, logSequence?: bigint): Promise<number> {
    return this.#primary.call("delete", keys, durability, logSequence);
  }

  apply(ops: readonly StoreOp[], logSequence: bigint): Promise<AppliedOp[]> {
    return this.#primary.call("apply", ops, logSequence);
  }

  setLogIdentity(identity: string): Promise<void> {
    return this.#primary.call("setLogIdentity", identity);
  }

  recordApplied(logSequence: bigint, durability: Durability): Promise<void> {
    return this.#primary.call("recordApplied", logSequence, durability);
  }

  purgeExpired(groupId: bigint, beforeMicros: bigint, limit: number): Promise<number> {
    return this.#primary.call("purgeExpired", groupId, beforeMicros, limit);
  }

  close(): Promise<void> {
    return this.#reader.close();
  }

  // lmdb-js resets its read snapshot on a timer that can fire after the next request has arrived,
  // and knows nothing of commits by other processes: measured, a worker read right after the
  // primary's commit missed it about half the time. So the first read of every event turn takes a
  // new snapshot (microseconds); the reads of one request, all in one turn, share it.
  #refresh(): void {
    if (this.#fresh) return;
    this.#fresh = true;
    this.#reader.refreshSnapshot();
    queueMicrotask(() => (this.#fresh = false));
  }
}
