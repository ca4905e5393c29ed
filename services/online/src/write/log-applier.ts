import { Code } from "@connectrpc/connect";
import { eventTimeBounds } from "@granary/arrow";
import type { CatalogueCache } from "@granary/catalogue-cache";
import { GranaryError, UnavailableError } from "@granary/errors";
import type { FeatureGroup } from "@granary/proto/metadata";
import type { Logger } from "@granary/telemetry";
import type { Follower, LogEntry, WriteLog } from "@granary/write-log";
import type { OnlineStore, StoreOp } from "../store/online-store.js";
import { keysOf, storedRowsOf } from "./stored-rows.js";

/** What applying one batch did to this replica's store. */
export interface Applied {
  readonly written: number;
  readonly ignored: number;
  readonly deleted: number;
  /** Why the batch went to the dead letters instead (then nothing was written). */
  readonly deadReason?: string;
}

export interface LogApplierDeps {
  readonly log: WriteLog;
  readonly store: OnlineStore;
  readonly catalogue: CatalogueCache;
  readonly logger: Logger;
  readonly maxFutureEventTimeS: number;
  /** How long a batch of a group this replica's catalogue does not know yet waits for the catalogue before it is refused. */
  readonly unknownGroupWaitMs?: number;
  /** Called after every batch applied or refused, with the new position. */
  readonly onApplied?: (sequence: bigint) => void;
}

const RESTART_DELAY_MS = 1000;
const KEPT_RESULTS = 4096;
/** Rows queued for the store before following the log waits for it (backpressure). */
const MAX_QUEUED_ROWS = 50_000;

/**
 * Follows the write log into this replica's store (issue 16). Batches are validated as they arrive
 * and queued; the queue goes to the store as one transaction (group commit: a log of many small
 * batches would otherwise wait on one commit each) recording the last batch's sequence with the
 * rows, so a restart, a redelivery or a duplicate is applied exactly once; the newest event time
 * per key wins as for direct writes. A batch the rules refuse (unknown group, bad rows from a
 * producer outside Granary) goes to the dead letters with the reason and the replica goes on; one
 * of an offline-only group is passed over (it is the offline service's). A store failure (disk full) stops applying; the applier
 * starts again from the store's position after a pause, and the lag shows it meanwhile.
 */
export class LogApplier {
  readonly #deps: LogApplierDeps;
  #follower: Follower | undefined;
  #position: bigint;
  #stopped = false;
  readonly #waiters: { sequence: bigint; resolve: () => void }[] = [];
  readonly #results = new Map<bigint, Applied>();
  /** Groups refused as unknown, with the catalogue revision then: refused again at once until the catalogue changes. */
  readonly #unknown = new Map<string, bigint>();
  #restartTimer: NodeJS.Timeout | undefined;
  #starting = false;
  #halted: string | undefined;
  /** Validated batches waiting for the store, in log order. */
  #queue: { sequence: bigint; op: StoreOp; rows: number }[] = [];
  #queuedRows = 0;
  #draining: Promise<void> | undefined;
  /** A store failure while draining: the next batch stops the follow with it, and it starts again. */
  #failure: unknown;

  constructor(deps: LogApplierDeps) {
    this.#deps = deps;
    this.#position = deps.store.appliedSequence();
  }

  /** The last log sequence applied to the store (or refused to the dead letters). */
  get position(): bigint {
    return this.#position;
  }

  /** Why this replica cannot follow the log at all (its store was built from another log); it stays NOT_SERVING. */
  get halted(): string | undefined {
    return this.#halted;
  }

  start(): void {
    if (this.#stopped || this.#follower || this.#starting) return;
    this.#starting = true;
    void this.#checkIdentity().then(
      (ok) => {
        this.#starting = false;
        if (ok) this.#follow();
      },
      (err: unknown) => {
        this.#starting = false;
        if (this.#stopped) return;
        this.#deps.logger.warn({ err }, "cannot read the write log's identity yet; trying again");
        this.#restartTimer = setTimeout(() => this.start(), RESTART_DELAY_MS);
      },
    );
  }

  /**
   * The store's applied sequence counts in one log; a log deleted and made again starts its
   * sequences at 1, and following it from the old position would skip its first batches silently.
   */
  async #checkIdentity(): Promise<boolean> {
    const { log, store, logger } = this.#deps;
    const identity = await log.identity();
    const known = store.logIdentity();
    if (known === undefined) {
      await store.setLogIdentity(identity);
      return true;
    }
    if (known === identity) return true;
    this.#halted =
      `this replica's store was built from write log ${known}, but the log is now ${identity} (recreated; its sequences start again). ` +
      "Rebuild the replica: delete its LMDB directory, or restore a snapshot of a replica of the new log (deploy/lmdb-backup.mjs), and restart it";
    logger.error({ known, identity }, this.#halted);
    return false;
  }

  #follow(): void {
    if (this.#stopped || this.#follower) return;
    const { log, store, logger } = this.#deps;
    const from = store.appliedSequence();
    this.#position = from;
    this.#failure = undefined;
    const follower = log.follow(from, (entry) => this.#apply(entry), {
      onDeadLetter: async (sequence, reason) => {
        await this.#drain();
        await store.recordApplied(sequence, "committed");
        this.#advance(sequence, { written: 0, ignored: 0, deleted: 0, deadReason: reason });
      },
    });
    this.#follower = follower;
    follower.done.then(
      () => {
        this.#follower = undefined;
      },
      (err: unknown) => {
        this.#follower = undefined;
        if (this.#stopped) return;
        logger.error({ err, position: this.#position }, "applying the write log stopped; starting again from the store's position");
        // What was queued and not committed comes again from the log, from the store's position.
        void (this.#draining ?? Promise.resolve()).finally(() => {
          this.#queue = [];
          this.#queuedRows = 0;
          this.#restartTimer = setTimeout(() => this.#follow(), RESTART_DELAY_MS);
        });
      },
    );
  }

  /**
   * Resolves once the store has applied the log up to `sequence`, with what that batch did when it
   * is still remembered; rejects with UNAVAILABLE after `timeoutMs`.
   */
  async waitFor(sequence: bigint, timeoutMs: number, signal?: AbortSignal): Promise<Applied | undefined> {
    if (this.#position < sequence) {
      await new Promise<void>((resolve, reject) => {
        const waiter = { sequence, resolve: () => settle(resolve) };
        const timer = setTimeout(() => settle(() => reject(this.#behind(sequence, timeoutMs))), timeoutMs);
        const onAbort = () => settle(() => reject(signal?.reason as Error));
        signal?.addEventListener("abort", onAbort, { once: true });
        const settle = (then: () => void) => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
          const i = this.#waiters.indexOf(waiter);
          if (i >= 0) this.#waiters.splice(i, 1);
          then();
        };
        this.#waiters.push(waiter);
      });
    }
    return this.#results.get(sequence);
  }

  /** What applying a recent batch did (the last few thousand are remembered). */
  result(sequence: bigint): Applied | undefined {
    return this.#results.get(sequence);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#restartTimer);
    await this.#follower?.stop();
    this.#follower = undefined;
    await this.#draining?.catch(() => {});
  }

  async #apply(entry: LogEntry): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure;
    const group = await this.#groupOf(entry);
    if (typeof group === "string") return this.#refuse(entry, group);
    let op: StoreOp;
    try {
      if (!group.onlineEnabled) {
        // The log feeds offline history too: a batch of an offline-only group is the offline
        // service's, not a mistake. Nothing to store here; the position still moves past it.
        op = { kind: "upsert", rows: [] };
      } else if (entry.kind === "delete") {
        op = { kind: "delete", keys: keysOf(group, entry.rows) };
      } else {
        const now = BigInt(Date.now()) * 1000n;
        op = { kind: "upsert", rows: storedRowsOf(group, entry.rows, now, eventTimeBounds(now, this.#deps.maxFutureEventTimeS)) };
      }
    } catch (err) {
      // The rows' fault (a producer outside Granary sent a wrong type, a null key, …): refused with
      // the reason. Anything else stops the follow and is retried.
      if (err instanceof GranaryError && isAboutTheRows(err)) return this.#refuse(entry, err.message);
      throw err;
    }
    this.#queue.push({ sequence: entry.sequence, op, rows: entry.rows.rowCount });
    this.#queuedRows += entry.rows.rowCount;
    const draining = this.#startDrain();
    if (this.#queuedRows >= MAX_QUEUED_ROWS) await draining;
  }

  /** Starts writing the queue to the store unless a drain is running (it picks up what is queued meanwhile). */
  #startDrain(): Promise<void> {
    this.#draining ??= (async () => {
      try {
        while (this.#queue.length > 0 && this.#failure === undefined) {
          const batch = this.#queue;
          this.#queue = [];
          this.#queuedRows = 0;
          const last = batch[batch.length - 1]!.sequence;
          const applied = await this.#deps.store.apply(
            batch.map((b) => b.op),
            last,
          );
          batch.forEach((b, i) => this.#advance(b.sequence, { ...applied[i]!, deadReason: undefined }));
        }
      } catch (err) {
        this.#failure = err;
        this.#deps.logger.error({ err, position: this.#position }, "the online store refused a write-log batch; applying stops and starts again");
      } finally {
        this.#draining = undefined;
      }
    })();
    return this.#draining;
  }

  /** Waits until everything queued is in the store; throws the store's failure. */
  async #drain(): Promise<void> {
    while (this.#draining || this.#queue.length > 0) await this.#startDrain();
    if (this.#failure !== undefined) throw this.#failure;
  }

  async #refuse(entry: LogEntry, reason: string): Promise<void> {
    const { log, store, logger } = this.#deps;
    logger.warn({ sequence: entry.sequence, subject: entry.raw.subject, reason }, "write-log batch refused to the dead letters");
    // Positions only move forward: what was queued before this batch goes to the store first.
    await this.#drain();
    await log.deadLetter(entry.raw, reason);
    await store.recordApplied(entry.sequence, "committed");
    this.#advance(entry.sequence, { written: 0, ignored: 0, deleted: 0, deadReason: reason });
  }

  /** The group of a batch, or why it cannot be applied. */
  async #groupOf(entry: LogEntry): Promise<FeatureGroup | string> {
    const { catalogue } = this.#deps;
    const address = `${entry.project}/${entry.group}/v${entry.version}`;
    let group = catalogue.featureGroup(entry.project, entry.group, entry.version);
    if (!group && this.#unknown.get(address) !== catalogue.revision) {
      // A group created a moment ago may not have reached this replica's catalogue yet.
      const deadline = Date.now() + (this.#deps.unknownGroupWaitMs ?? 5000);
      while (!group && Date.now() < deadline && !this.#stopped) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        group = catalogue.featureGroup(entry.project, entry.group, entry.version);
      }
    }
    if (!group) {
      this.#unknown.set(address, catalogue.revision);
      return `feature group "${entry.group}" version ${entry.version} does not exist in project "${entry.project}"`;
    }
    this.#unknown.delete(address);
    return group;
  }

  #advance(sequence: bigint, applied: Applied): void {
    this.#position = sequence;
    this.#results.set(sequence, applied);
    if (this.#results.size > KEPT_RESULTS) this.#results.delete(this.#results.keys().next().value!);
    for (const waiter of this.#waiters.filter((w) => w.sequence <= sequence)) waiter.resolve();
    this.#deps.onApplied?.(sequence);
  }

  #behind(sequence: bigint, timeoutMs: number): UnavailableError {
    return new UnavailableError(
      `this online replica has applied the write log up to sequence ${this.#position}, behind the ${sequence} asked for, after waiting ${timeoutMs} ms; retry, or ask another replica`,
    );
  }
}

function isAboutTheRows(err: GranaryError): boolean {
  return err.code === Code.InvalidArgument || err.code === Code.OutOfRange;
}
