import { metrics, type Meter } from "@opentelemetry/api";
import type { CatalogueCache } from "@granary/catalogue-cache";
import { FailedPreconditionError } from "@granary/errors";
import type { FeatureGroup } from "@granary/proto/metadata";
import type { ColumnarRows } from "@granary/proto/types";
import type { Logger } from "@granary/telemetry";
import { splitRows, type BatchKind, type DeadLetter, type WriteLog } from "@granary/write-log";
import type { OnlineStore } from "../store/online-store.js";
import { LogApplier } from "./log-applier.js";

export interface ReplicaLogOptions {
  readonly replica: string;
  readonly maxLag: number;
  readonly applyWaitMs: number;
  readonly readWaitMs: number;
  readonly maxFutureEventTimeS: number;
  /** How often the log's last sequence is read for the lag; default 1 s. */
  readonly pollMs?: number;
}

export interface ReplicaStatus {
  readonly replica: string;
  readonly appliedSequence: bigint;
  readonly logSequence: bigint;
  readonly lag: bigint;
  readonly withinBound: boolean;
}

export const LAG_METRIC = "granary.online.log_lag";

// A message of the log is capped at 1 MiB (NATS's default max_payload), headers included.
const MAX_BATCH_BYTES = 1024 * 1024 - 8 * 1024;

/** What a write through the log did; counts are exact when this replica applied it within the wait. */
export interface LogWriteResult {
  readonly sequence: bigint;
  readonly written: number;
  readonly ignored: number;
  readonly deleted: number;
}

/**
 * The write log as the RPC handlers use it. FollowingReplicaLog is the real one; an online worker
 * process (cluster/) forwards these calls to its primary, which follows the log for all workers.
 */
export interface ReplicaLog {
  write(group: FeatureGroup, project: string, kind: BatchKind, rows: ColumnarRows, signal: AbortSignal): Promise<LogWriteResult>;
  caughtUp(sequence: bigint, signal: AbortSignal): Promise<void>;
  hasApplied(sequence: bigint): boolean;
  status(): ReplicaStatus;
  listDeadLetters(project: string, limit: number): Promise<DeadLetter[]>;
}

/**
 * This replica's side of the write log (issue 16): writes are appended to the log and acknowledged
 * once stored there (and, within a bound, applied here, so a client reading this replica sees its
 * own write); the applier follows the log into the store; reads with a minimum sequence wait for
 * it; the lag decides readiness.
 */
export class FollowingReplicaLog implements ReplicaLog {
  readonly log: WriteLog;
  readonly #applier: LogApplier;
  readonly #options: ReplicaLogOptions;
  readonly #logger: Logger;
  #logSequence = 0n;
  #poll: NodeJS.Timeout | undefined;
  #removeGauge: (() => void) | undefined;
  #onBound: ((within: boolean) => void) | undefined;
  #within: boolean | undefined;
  #stopped = false;

  constructor(deps: { log: WriteLog; store: OnlineStore; catalogue: CatalogueCache; logger: Logger }, options: ReplicaLogOptions) {
    this.log = deps.log;
    this.#options = options;
    this.#logger = deps.logger;
    this.#applier = new LogApplier({
      log: deps.log,
      store: deps.store,
      catalogue: deps.catalogue,
      logger: deps.logger,
      maxFutureEventTimeS: options.maxFutureEventTimeS,
      onApplied: (sequence) => {
        if (sequence > this.#logSequence) this.#logSequence = sequence;
        this.#checkBound();
      },
    });
  }

  /** Starts applying the log; `onBound` hears whether the lag is within GRANARY_ONLINE_MAX_LAG whenever that changes. */
  start(onBound: (within: boolean) => void, meter: Meter = metrics.getMeter("granary.online")): void {
    this.#onBound = onBound;
    this.#applier.start();
    const gauge = meter.createObservableGauge(LAG_METRIC, {
      description: "Write-log messages this online replica has not applied yet (readiness is NOT_SERVING above GRANARY_ONLINE_MAX_LAG)",
      unit: "{message}",
    });
    const observe = (result: { observe(value: number, attributes?: Record<string, string>): void }) =>
      result.observe(Number(this.status().lag), { replica: this.#options.replica });
    gauge.addCallback(observe);
    this.#removeGauge = () => gauge.removeCallback(observe);
    const poll = async () => {
      try {
        this.#logSequence = await this.log.lastSequence();
      } catch (err) {
        // An outage of the log: keep serving what is applied; the lag is as last seen.
        this.#logger.debug({ err }, "reading the write log's last sequence failed");
      }
      if (this.#stopped) return;
      this.#checkBound();
      this.#poll = setTimeout(() => void poll(), this.#options.pollMs ?? 1000);
    };
    void poll();
  }

  /**
   * Appends a validated batch (as several messages when it is over the log's message size, in row
   * order) and waits, within GRANARY_ONLINE_APPLY_WAIT_MS, for this replica to apply it. Counts are
   * exact when it did; past the wait the batch is durable in the log and the counts say what was
   * sent. The sequence is the last message's.
   */
  async write(group: FeatureGroup, project: string, kind: BatchKind, rows: ColumnarRows, signal: AbortSignal): Promise<LogWriteResult> {
    const sequences: { sequence: bigint; rows: number }[] = [];
    for (const part of splitRows(rows, MAX_BATCH_BYTES)) {
      const { sequence } = await this.log.append({ project, group: group.name, version: group.version, kind, origin: "write-rows", rows: part });
      sequences.push({ sequence, rows: part.rowCount });
    }
    const sequence = sequences[sequences.length - 1]!.sequence;
    const caughtUp = await this.#applier.waitFor(sequence, this.#options.applyWaitMs, signal).then(
      () => true,
      () => false,
    );
    const totals = { written: 0, ignored: 0, deleted: 0 };
    for (const part of sequences) {
      const applied = caughtUp ? this.#applier.result(part.sequence) : undefined;
      if (applied?.deadReason) {
        throw new FailedPreconditionError(`the write was stored in the write log as sequence ${part.sequence} but refused: ${applied.deadReason}`);
      }
      totals.written += applied?.written ?? (kind === "upsert" ? part.rows : 0);
      totals.ignored += applied?.ignored ?? 0;
      totals.deleted += applied?.deleted ?? (kind === "delete" ? part.rows : 0);
    }
    return { sequence, ...totals };
  }

  /** Resolves once this replica has applied the log up to `sequence`; UNAVAILABLE past GRANARY_ONLINE_READ_WAIT_MS. */
  async caughtUp(sequence: bigint, signal: AbortSignal): Promise<void> {
    if (this.#applier.position >= sequence) return;
    await this.#applier.waitFor(sequence, this.#options.readWaitMs, signal);
  }

  /** Whether a read at `sequence` can answer now, without waiting (the hot path stays synchronous). */
  hasApplied(sequence: bigint): boolean {
    return this.#applier.position >= sequence;
  }

  status(): ReplicaStatus {
    const applied = this.#applier.position;
    const logSequence = this.#logSequence > applied ? this.#logSequence : applied;
    const lag = logSequence - applied;
    return {
      replica: this.#options.replica,
      appliedSequence: applied,
      logSequence,
      lag,
      withinBound: this.#applier.halted === undefined && lag <= BigInt(this.#options.maxLag),
    };
  }

  listDeadLetters(project: string, limit: number): Promise<DeadLetter[]> {
    return this.log.listDeadLetters(project, limit);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#poll);
    this.#poll = undefined;
    this.#removeGauge?.();
    await this.#applier.stop();
  }

  #checkBound(): void {
    const within = this.status().withinBound;
    if (within === this.#within) return;
    this.#within = within;
    this.#onBound?.(within);
  }
}
