import type { FeatureGroup } from "@granary/proto/metadata";
import type { ColumnarRows } from "@granary/proto/types";
import type { BatchKind, DeadLetter } from "@granary/write-log";
import type { OnlineStore } from "../store/online-store.js";
import type { LogWriteResult, ReplicaLog, ReplicaStatus } from "../write/replica-log.js";
import type { PrimaryCalls } from "./primary-calls.js";

/**
 * The write log in a worker process. The primary follows the log for every worker (one applier
 * keeps the store's position exact), so a write goes to it and comes back once applied, with the
 * exact counts; what has been applied is read from the store itself (the position is committed
 * with the rows), so `hasApplied` stays a synchronous read on the hot path.
 */
export class WorkerReplicaLog implements ReplicaLog {
  readonly #primary: PrimaryCalls;
  readonly #store: OnlineStore;
  #status: ReplicaStatus;

  constructor(primary: PrimaryCalls, store: OnlineStore, replica: string) {
    this.#primary = primary;
    this.#store = store;
    const applied = store.appliedSequence();
    this.#status = { replica, appliedSequence: applied, logSequence: applied, lag: 0n, withinBound: false };
  }

  /** The primary's latest word on the log (it sends it when it changes and every few hundred ms). */
  update(status: ReplicaStatus): void {
    this.#status = status;
  }

  write(group: FeatureGroup, project: string, kind: BatchKind, rows: ColumnarRows): Promise<LogWriteResult> {
    return this.#primary.call("logWrite", group, project, kind, rows);
  }

  async caughtUp(sequence: bigint): Promise<void> {
    if (this.hasApplied(sequence)) return;
    await this.#primary.call("logCaughtUp", sequence);
  }

  hasApplied(sequence: bigint): boolean {
    return this.#store.appliedSequence() >= sequence;
  }

  status(): ReplicaStatus {
    const known = this.#status;
    const applied = this.#store.appliedSequence();
    if (applied <= known.appliedSequence) return known;
    const logSequence = known.logSequence > applied ? known.logSequence : applied;
    return { ...known, appliedSequence: applied, logSequence, lag: logSequence - applied };
  }

  listDeadLetters(project: string, limit: number): Promise<DeadLetter[]> {
    return this.#primary.call("listDeadLetters", project, limit);
  }
}
