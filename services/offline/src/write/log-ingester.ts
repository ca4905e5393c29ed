import { metrics, type Meter } from "@opentelemetry/api";
import { UnavailableError } from "@granary/errors";
import type { FeatureGroup } from "@granary/proto/metadata";
import type { ConsumedBatch, LogConsumer, LogEntry, WriteLog } from "@granary/write-log";
import { groupKey } from "../store/commit-log.js";
import type { StatisticsUpdater } from "../stats/statistics-updater.js";
import { commitLogEntries, type LogCommitDeps } from "./log-commit.js";

export interface LogIngesterDeps extends LogCommitDeps {
  readonly log: WriteLog;
  /** The catalogue's view of a group, and its revision (a group refused as unknown is looked for again once the catalogue changed). */
  readonly catalogue: {
    featureGroup(project: string, name: string, version: number): FeatureGroup | undefined;
    readonly revision: bigint;
  };
  readonly statistics: StatisticsUpdater;
  /** GRANARY_OFFLINE_STREAM_MAX_ROWS: a micro-batch is committed once it holds this many rows… */
  readonly maxRows: number;
  /** GRANARY_OFFLINE_STREAM_MAX_MS: …or once it has gathered for this long. */
  readonly maxMs: number;
  /** How long a batch of a group the catalogue does not know yet waits for it before it is refused; default 5 s. */
  readonly unknownGroupWaitMs?: number;
  /** How often the log's last sequence is read for the lag; default 1 s. */
  readonly pollMs?: number;
}

/** The durable consumer's name: JetStream remembers what it acknowledged across restarts. */
export const CONSUMER_NAME = "granary-offline";
export const LAG_METRIC = "granary.offline.log_lag";
export const ROWS_METRIC = "granary.offline.log_rows";

/** Messages one fetch asks for (each a batch of rows, up to 1 MiB). */
const FETCH_MESSAGES = 256;
/**
 * The longest wait between attempts. Short on purpose: an attempt while NATS is unreachable fails
 * at once without touching the network, and a longer wait would leave history behind for that long
 * after NATS is back (a 30 s cap once kept it 30 s behind after a 20 s outage).
 */
const MAX_RETRY_DELAY_MS = 3_000;
/** Margin for the metadata service's clock when listing the commits of an attempt of unknown outcome. */
const CLOCK_MARGIN_MS = 60_000;

/**
 * Rows pushed to the write log, into offline history (issue 16). A durable consumer fetches batches
 * for up to GRANARY_OFFLINE_STREAM_MAX_MS or GRANARY_OFFLINE_STREAM_MAX_ROWS; each group's batches
 * of that micro-batch become one ordinary commit (commitLogEntries); then, and only then, the
 * fetch is acknowledged. Any failure that is not the rows' (the metadata service down, a disk)
 * releases the fetch for delivery again and the consumer retries with backoff.
 *
 * Exactly once: each commit keeps the highest log sequence it includes beside its files (recorded
 * with it), and a batch at or below its group's is skipped when delivered again. After a commit
 * whose recording may or may not have happened, the group's recent commits are listed from the
 * metadata service before it is written to again.
 *
 * Skipped on purpose: batches of origin "insert" (an offline Insert's online copy: already in
 * history) and deletes (online tombstones; offline history keeps history).
 */
export class LogIngester {
  readonly #deps: LogIngesterDeps;
  readonly #stop = new AbortController();
  /** Per group: the highest log sequence in history (or dead-lettered), as far as this process knows. */
  readonly #markers = new Map<string, bigint>();
  /** Groups whose last commit failed, with when it started: their commits are listed from metadata before the next. */
  readonly #uncertain = new Map<string, Date>();
  /** Groups refused as unknown, with the catalogue revision then. */
  readonly #unknown = new Map<string, bigint>();
  #consumer: LogConsumer | undefined;
  #running: Promise<void> | undefined;
  #position = 0n;
  #logSequence = 0n;
  #poll: NodeJS.Timeout | undefined;
  #removeGauge: (() => void) | undefined;
  #rowsCounter: { add(value: number, attributes?: Record<string, string>): void } | undefined;

  constructor(deps: LogIngesterDeps) {
    this.#deps = deps;
  }

  /** Messages of the log this consumer has not acknowledged yet (as of the last poll of the log's end). */
  get lag(): bigint {
    return this.#logSequence > this.#position ? this.#logSequence - this.#position : 0n;
  }

  start(meter: Meter = metrics.getMeter("granary.offline")): void {
    if (this.#running) return;
    const gauge = meter.createObservableGauge(LAG_METRIC, {
      description: "Write-log messages the offline consumer has not committed and acknowledged yet",
      unit: "{message}",
    });
    const observe = (result: { observe(value: number): void }) => result.observe(Number(this.lag));
    gauge.addCallback(observe);
    this.#removeGauge = () => gauge.removeCallback(observe);
    this.#rowsCounter = meter.createCounter(ROWS_METRIC, { description: "Rows committed to offline history from the write log", unit: "{row}" });
    const poll = async () => {
      try {
        this.#logSequence = await this.#deps.log.lastSequence();
      } catch (err) {
        this.#deps.logger.debug({ err }, "reading the write log's last sequence failed");
      }
      if (!this.#stop.signal.aborted) this.#poll = setTimeout(() => void poll(), this.#deps.pollMs ?? 1000).unref();
    };
    void poll();
    this.#running = this.#run();
  }

  /**
   * Resolves once every batch the log held when called is in history (committed, skipped or
   * dead-lettered). An offline Insert or DeleteRows waits for it first: online applies a pushed
   * batch and a later Insert's copy in log order, and without the wait history could commit the
   * pushed rows after the Insert (a tie on (key, event time) resolved the other way, or deleted
   * keys coming back). UNAVAILABLE past `timeoutMs` (the consumer is behind or the log is down).
   */
  async barrier(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const target = await this.#deps.log.lastSequence();
    // The consumer counts a short fetch as reaching the end it knew: let it know this one now.
    if (target > this.#logSequence) this.#logSequence = target;
    const until = Date.now() + timeoutMs;
    while (this.#position < target) {
      if (Date.now() >= until) {
        throw new UnavailableError(
          `the offline service has committed the write log up to sequence ${this.#position}, behind its end ${target}, after waiting ${timeoutMs} ms; this write waits for it so history keeps the log's order; retry shortly`,
        );
      }
      signal?.throwIfAborted();
      await sleep(20, signal ?? this.#stop.signal);
    }
  }

  /** Stops after the micro-batch in progress; what was fetched and not committed is delivered again later. */
  async stop(): Promise<void> {
    this.#stop.abort();
    clearTimeout(this.#poll);
    this.#removeGauge?.();
    await this.#running;
    await this.#consumer?.close().catch(() => undefined);
  }

  async #run(): Promise<void> {
    const { logger } = this.#deps;
    let delay = 100;
    while (!this.#stop.signal.aborted) {
      let fetched: ConsumedBatch[] = [];
      try {
        this.#consumer ??= await this.#deps.log.consumer({ name: CONSUMER_NAME });
        const gathered = await this.#gather(this.#consumer);
        fetched = gathered.fetched;
        const highest = await this.#commit(gathered.entries);
        for (const batch of fetched) await batch.ack();
        fetched = [];
        const reached = gathered.caughtUpTo > highest ? gathered.caughtUpTo : highest;
        if (reached > this.#position) this.#position = reached;
        delay = 100;
      } catch (err) {
        // Delivered again at once; the sequence beside each commit skips what did commit.
        for (const batch of fetched) await batch.nak().catch(() => undefined);
        if (this.#stop.signal.aborted) break;
        logger.warn({ err, retryInMs: delay }, "committing rows from the write log failed; they will be delivered again");
        await sleep(delay, this.#stop.signal);
        delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS);
      }
    }
  }

  /** Fetches until the micro-batch holds maxRows rows or maxMs has passed since its first message. */
  async #gather(consumer: LogConsumer): Promise<{ fetched: ConsumedBatch[]; entries: LogEntry[]; caughtUpTo: bigint }> {
    const fetched: ConsumedBatch[] = [];
    const entries: LogEntry[] = [];
    let rows = 0;
    let caughtUpTo = 0n;
    let started: number | undefined;
    try {
      while (!this.#stop.signal.aborted) {
        const left = started === undefined ? this.#deps.maxMs : this.#deps.maxMs - (Date.now() - started);
        const knownEnd = this.#logSequence;
        const batch = await consumer.fetch({ maxMessages: FETCH_MESSAGES, maxWaitMs: Math.max(0, left) });
        fetched.push(batch);
        entries.push(...batch.entries);
        for (const e of batch.entries) rows += e.rows.rowCount;
        // A pull that ended short had nothing more to deliver: everything up to the end seen before it is here.
        if (batch.entries.length < FETCH_MESSAGES) caughtUpTo = knownEnd;
        if (started === undefined && batch.entries.length > 0) started = Date.now();
        if (started === undefined) break;
        if (rows >= this.#deps.maxRows || Date.now() - started >= this.#deps.maxMs) break;
      }
    } catch (err) {
      for (const batch of fetched) await batch.nak().catch(() => undefined);
      throw err;
    }
    return { fetched, entries, caughtUpTo };
  }

  /** Commits a micro-batch (one commit per group), dead-lettering what groups refuse; the highest sequence handled. */
  async #commit(entries: readonly LogEntry[]): Promise<bigint> {
    const sorted = [...entries].sort((a, b) => (a.sequence < b.sequence ? -1 : a.sequence > b.sequence ? 1 : 0));
    const groups = new Map<string, { project: string; group: FeatureGroup; entries: LogEntry[] }>();
    let highest = 0n;
    for (const entry of sorted) {
      if (entry.sequence > highest) highest = entry.sequence;
      // An offline Insert's online copy is already in history; a delete is an online tombstone.
      if (entry.origin === "insert" || entry.kind === "delete") continue;
      const group = await this.#groupOf(entry);
      if (typeof group === "string") {
        await this.#refuse(entry, group);
        continue;
      }
      const key = groupKey(entry.project, group.name, group.version);
      if (entry.sequence <= (await this.#marker(entry.project, group))) continue;
      let of = groups.get(key);
      if (!of) groups.set(key, (of = { project: entry.project, group, entries: [] }));
      of.entries.push(entry);
    }
    for (const [key, { project, group, entries: batch }] of groups) {
      const started = new Date();
      const last = batch[batch.length - 1]!.sequence;
      try {
        const committed = await commitLogEntries(this.#deps, project, group, batch, (entry, reason) => this.#refuse(entry, reason), this.#stop.signal);
        this.#markers.set(key, last);
        if (!committed) continue;
        this.#rowsCounter?.add(Number(committed.rows), { project, feature_group: group.name });
        if (group.statisticsConfig?.enabled) void this.#deps.statistics.refresh(project, group.name, group.version);
      } catch (err) {
        this.#markers.delete(key);
        this.#uncertain.set(key, started);
        throw err;
      }
    }
    return highest;
  }

  /** The highest log sequence of the group in history: from the newest commit made from the log. */
  async #marker(project: string, group: FeatureGroup): Promise<bigint> {
    const { commits, layout, metadata } = this.#deps;
    const key = groupKey(project, group.name, group.version);
    const uncertain = this.#uncertain.get(key);
    if (uncertain) {
      // A CreateCommit that failed may still have been recorded; its change may not have reached the commit log yet.
      const recorded = await metadata.commitsSince(project, group, new Date(uncertain.getTime() - CLOCK_MARGIN_MS));
      for (const c of recorded) commits.apply(c);
      this.#uncertain.delete(key);
      this.#markers.delete(key);
    }
    const known = this.#markers.get(key);
    if (known !== undefined) return known;
    let marker = 0n;
    for (const c of [...commits.commits(project, group.name, group.version)].reverse()) {
      const recorded = await layout.logSequenceOf(project, group.name, group.version, c.sequence);
      if (recorded !== undefined) {
        marker = recorded;
        break;
      }
    }
    this.#markers.set(key, marker);
    return marker;
  }

  /** The group of a batch, or why it has none. */
  async #groupOf(entry: LogEntry): Promise<FeatureGroup | string> {
    const { catalogue } = this.#deps;
    const address = `${entry.project}/${entry.group}/v${entry.version}`;
    let group = catalogue.featureGroup(entry.project, entry.group, entry.version);
    if (!group && this.#unknown.get(address) !== catalogue.revision) {
      // A group created a moment ago may not have reached this service's catalogue yet.
      const deadline = Date.now() + (this.#deps.unknownGroupWaitMs ?? 5000);
      while (!group && Date.now() < deadline && !this.#stop.signal.aborted) {
        await sleep(50, this.#stop.signal);
        group = catalogue.featureGroup(entry.project, entry.group, entry.version);
      }
    }
    if (!group) {
      // Stopping is no verdict on the group: the batch is delivered again after the restart.
      if (this.#stop.signal.aborted) throw new Error("the write-log consumer is stopping");
      this.#unknown.set(address, catalogue.revision);
      return `feature group "${entry.group}" version ${entry.version} does not exist in project "${entry.project}"`;
    }
    this.#unknown.delete(address);
    return group;
  }

  async #refuse(entry: LogEntry, reason: string): Promise<void> {
    this.#deps.logger.warn({ sequence: entry.sequence, subject: entry.raw.subject, reason }, "write-log batch refused by offline history to the dead letters");
    await this.#deps.log.deadLetter(entry.raw, reason);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
