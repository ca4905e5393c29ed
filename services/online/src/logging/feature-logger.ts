import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { metrics } from "@opentelemetry/api";
import type { OfflineService } from "@granary/proto/offline";
import { lazily, type Logger } from "@granary/telemetry";
import { FeatureLogQueue, type LogBatch } from "./feature-log-queue.js";

/** Flushes a batch is sent in while the offline service is unreachable (at the 1 s interval: its start, a restart) before it is dropped. */
const UNREACHABLE_ATTEMPTS = 5;

export interface FeatureLoggerOptions {
  /** The offline service, dialled with the internal service key. */
  readonly offline: Pick<Client<typeof OfflineService>, "logFeatures">;
  readonly logger: Logger;
  /** Most vectors waiting (GRANARY_ONLINE_FEATURE_LOG_QUEUE); more are dropped and counted. */
  readonly capacity: number;
  /** How often the queue is flushed (GRANARY_ONLINE_FEATURE_LOG_INTERVAL_MS); a flush also starts at `batchRows` waiting. */
  readonly intervalMs: number;
  /** Most vectors in one LogFeatures call. */
  readonly batchRows?: number;
  /** How long one LogFeatures call may take before its vectors count as dropped. */
  readonly timeoutMs?: number;
  /** How long a stop waits for the last vectors to be sent (default 2 s). */
  readonly stopGraceMs?: number;
  readonly random?: () => number;
}

export interface FeatureLoggingCounts {
  readonly logged: number;
  readonly dropped: number;
  readonly queued: number;
}

/** Every logger of this process, for the metrics (a test runs several services in one process); stopped ones' counts in `retired`. */
const live = new Set<FeatureLogger>();
const retired = { logged: 0, dropped: 0 };
const sum = (field: "logged" | "dropped" | "queued") => {
  let total = field === "queued" ? 0 : retired[field];
  for (const l of live) total += l.counts()[field];
  return total;
};

const instruments = lazily(() => {
  const meter = metrics.getMeter("granary.online");
  meter
    .createObservableCounter("granary.online.feature_log.logged", {
      unit: "{vector}",
      description: "Served vectors the online service logged to the offline store",
    })
    .addCallback((result) => result.observe(sum("logged")));
  meter
    .createObservableCounter("granary.online.feature_log.dropped", {
      unit: "{vector}",
      description: "Served vectors the online service did not log: its queue was full, or the offline store refused or was unreachable",
    })
    .addCallback((result) => result.observe(sum("dropped")));
  meter
    .createObservableGauge("granary.online.feature_log.queued", { unit: "{vector}", description: "Served vectors waiting to be logged" })
    .addCallback((result) => result.observe(sum("queued")));
  return true;
});

/**
 * The online service's own feature logging: a FeatureLogQueue filled by the lookups (`queue.offer`,
 * on the request path, synchronous) and a flusher that sends it to the offline service's
 * LogFeatures every interval (or sooner, once a batch is full), one call per view and model, off
 * the request path. A batch the offline service could not be reached for (UNAVAILABLE: nothing was
 * stored) is sent again with the next flushes, up to UNREACHABLE_ATTEMPTS; other failures, and
 * a batch out of attempts, drop the batch, count it and warn at most once per interval.
 */
export class FeatureLogger {
  readonly queue: FeatureLogQueue;
  readonly #options: FeatureLoggerOptions;
  readonly #batchRows: number;
  readonly #timer: NodeJS.Timeout;
  #flushing: Promise<void> | undefined;
  #warnedAt = 0;
  #stopped = false;
  /** Aborted when a stop's grace is over: a slow or unreachable offline service never holds up a shutdown. */
  readonly #abort = new AbortController();

  constructor(options: FeatureLoggerOptions) {
    this.#options = options;
    this.#batchRows = options.batchRows ?? 1000;
    this.queue = new FeatureLogQueue(options.capacity, options.random);
    this.#timer = setInterval(() => void this.flush(), options.intervalMs);
    this.#timer.unref();
    instruments();
    live.add(this);
  }

  /** Logged, dropped (since start) and queued vectors of this process. */
  counts(): FeatureLoggingCounts {
    return { logged: this.queue.logged, dropped: this.queue.dropped, queued: this.queue.queued };
  }

  /** A lookup's vectors, sampled into the queue (see FeatureLogQueue.offer); a full batch starts a flush before the interval ends. */
  offer(...args: Parameters<FeatureLogQueue["offer"]>): void {
    if (this.#stopped) return;
    try {
      this.queue.offer(...args);
    } catch (err) {
      // Logging never fails a lookup: a vector it cannot copy is dropped like one that does not fit.
      this.queue.dropped += args[3].rowCount;
      if (Date.now() - this.#warnedAt >= this.#options.intervalMs) {
        this.#warnedAt = Date.now();
        this.#options.logger.warn({ err }, "feature logging: could not queue a lookup's vectors; dropped");
      }
    }
    if (this.queue.queued >= this.#batchRows && !this.#flushing) setImmediate(() => void this.flush());
  }

  /** Sends what is queued now; resolves when it is stored or dropped. One flush at a time. */
  flush(): Promise<void> {
    this.#flushing ??= this.#flushOnce().finally(() => (this.#flushing = undefined));
    return this.#flushing;
  }

  /** Stops the timer and sends what is left, giving up (and counting the rest as dropped) after `stopGraceMs`. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    const giveUp = setTimeout(() => this.#abort.abort(), this.#options.stopGraceMs ?? 2_000);
    await this.#flushing;
    await this.flush();
    clearTimeout(giveUp);
    live.delete(this);
    retired.logged += this.queue.logged;
    retired.dropped += this.queue.dropped;
  }

  async #flushOnce(): Promise<void> {
    for (const batch of this.queue.take(this.#batchRows)) {
      try {
        batch.attempts++;
        await this.#send(batch);
        this.queue.settle(batch, true);
      } catch (err) {
        // Unreachable (the offline service is starting, restarting or cut off): nothing was stored,
        // so the batch waits for the next flush, a few times, in the queue's bounded room.
        if (!this.#stopped && batch.attempts < UNREACHABLE_ATTEMPTS && ConnectError.from(err).code === Code.Unavailable) {
          this.queue.retry(batch);
          continue;
        }
        this.queue.settle(batch, false);
        this.#warn(err, batch);
      }
    }
  }

  #send(batch: LogBatch): Promise<unknown> {
    return this.#options.offline.logFeatures(
      {
        project: batch.project,
        featureView: batch.view,
        rowCount: batch.rowCount,
        servingKeys: batch.columns.servingKeys,
        untransformed: batch.columns.untransformed,
        transformed: batch.columns.transformed,
        requestParameters: batch.columns.requestParameters,
        model: batch.served.model,
        modelVersion: batch.served.modelVersion,
        trainingDatasetVersion: batch.served.trainingDatasetVersion,
        logTime: timestampFromMs(Number(batch.logTimeMicros / 1000n)),
        source: "online",
      },
      { timeoutMs: this.#options.timeoutMs ?? 30_000, signal: this.#abort.signal },
    );
  }

  #warn(err: unknown, batch: LogBatch): void {
    const now = Date.now();
    if (now - this.#warnedAt < this.#options.intervalMs) return;
    this.#warnedAt = now;
    this.#options.logger.warn(
      { err, project: batch.project, featureView: batch.view.name, version: batch.view.version, vectors: batch.rowCount, dropped: this.queue.dropped },
      "feature logging: the offline service did not take the served vectors; they are dropped (granary.online.feature_log.dropped)",
    );
  }
}
