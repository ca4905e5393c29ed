import { UnavailableError } from "@granary/errors";
import { AckPolicy, DeliverPolicy, JetStreamApiCodes, JetStreamApiError, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { connect, nanos, type NatsConnection } from "@nats-io/transport-node";
import { toDeadLetter } from "./dead-letters.js";
import { startFollower, type MessageSource } from "./follower.js";
import { JetStreamConsumer } from "./jetstream-consumer.js";
import { orderedMessages } from "./jetstream-follow.js";
import { ensureStreams, type StreamSettings } from "./jetstream-streams.js";
import { HEADER, checkMessageSize, deadLetterMessage, encodeBatch } from "./log-message.js";
import { displayUrl, translateNatsError } from "./nats-errors.js";
import { headersOf, toNatsHeaders } from "./nats-messages.js";
import { LogSubjects, checkConsumerName } from "./subjects.js";
import type {
  AppendResult,
  ConsumerOptions,
  DeadLetter,
  FollowHandler,
  FollowOptions,
  Follower,
  LogBatch,
  LogConsumer,
  RawLogMessage,
  WriteLog,
} from "./write-log.js";

export interface JetStreamWriteLogOptions extends StreamSettings {
  /** nats://host:port (several, comma-separated, for a cluster). */
  readonly url: string;
  /** Default GRANARY; tests use their own. */
  readonly stream?: string;
  /** Default GRANARY_DEAD. */
  readonly deadStream?: string;
  readonly subjectPrefix?: string;
  readonly deadSubjectPrefix?: string;
  /** Bound on every request to NATS (append, dead letter, info); default 5 s. */
  readonly requestTimeoutMs?: number;
  /** Bound on the first connection; default 5 s. */
  readonly connectTimeoutMs?: number;
  /** Shown in NATS monitoring (`granary-online`, …). */
  readonly clientName?: string;
  /** Create missing streams at start (default true). An existing stream is used as it is. */
  readonly createStreams?: boolean;
}

/**
 * The write log on NATS JetStream: one stream (GRANARY) holding every project's subjects, one for
 * dead letters (GRANARY_DEAD); docs/decisions/0005-write-log.md says why. Appends fail fast with
 * UNAVAILABLE while the connection is down and are bounded by requestTimeoutMs otherwise; the
 * client reconnects by itself, and followers resume from the last sequence they delivered.
 */
export class JetStreamWriteLog implements WriteLog {
  readonly subjects: LogSubjects;
  readonly #nc: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #url: string;
  readonly #stream: string;
  readonly #deadStream: string;
  readonly #timeout: number;
  readonly #followers = new Set<Follower>();
  readonly #consumers = new Set<LogConsumer>();
  readonly #closing = new AbortController();
  #connected = true;

  private constructor(nc: NatsConnection, jsm: JetStreamManager, options: JetStreamWriteLogOptions, subjects: LogSubjects) {
    this.#nc = nc;
    this.#jsm = jsm;
    this.#url = options.url;
    this.#timeout = options.requestTimeoutMs ?? 5000;
    this.#js = jetstream(nc, { timeout: this.#timeout });
    this.#stream = options.stream ?? "GRANARY";
    this.#deadStream = options.deadStream ?? "GRANARY_DEAD";
    this.subjects = subjects;
    void this.#watchConnection();
  }

  /** Connects, and creates the streams unless they exist; UNAVAILABLE naming NATS and the URL when it cannot. */
  static async connect(options: JetStreamWriteLogOptions): Promise<JetStreamWriteLog> {
    const subjects = new LogSubjects(options.subjectPrefix ?? "granary", options.deadSubjectPrefix ?? "granary-dead");
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers: options.url.split(",").map((s) => s.trim()),
        name: options.clientName ?? "granary",
        timeout: options.connectTimeoutMs ?? 5000,
        reconnect: true,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
        reconnectJitter: 250,
        // A half-open connection (a peer gone without a FIN) is noticed within about 30 s.
        pingInterval: 10_000,
        maxPingOut: 3,
      });
    } catch (err) {
      throw new UnavailableError(`NATS at ${displayUrl(options.url)} is unreachable: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    try {
      const jsm = await jetstreamManager(nc, { timeout: options.requestTimeoutMs ?? 5000 });
      const log = new JetStreamWriteLog(nc, jsm, options, subjects);
      if (options.createStreams ?? true) await ensureStreams(jsm, { stream: log.#stream, deadStream: log.#deadStream, subjects, url: options.url }, options);
      return log;
    } catch (err) {
      await nc.close().catch(() => {});
      throw translateNatsError(err, options.url, "opening the write log");
    }
  }

  async append(batch: LogBatch): Promise<AppendResult> {
    const message = encodeBatch(batch, this.subjects);
    return this.appendRaw(message, message.msgId);
  }

  /** Publishes a message as given, unchecked, as a producer outside Granary may (tests use it for poison). */
  async appendRaw(message: RawLogMessage, msgId = message.headers[HEADER.msgId] ?? crypto.randomUUID()): Promise<AppendResult> {
    const what = `appending to ${message.subject}`;
    this.#checkUsable(what);
    checkMessageSize(message, this.#nc.info?.max_payload ?? 1024 * 1024);
    try {
      const ack = await this.#js.publish(message.subject, message.data, {
        msgID: msgId,
        headers: toNatsHeaders(message.headers),
        timeout: this.#timeout,
        expect: { streamName: this.#stream },
      });
      return { sequence: BigInt(ack.seq), duplicate: ack.duplicate, msgId };
    } catch (err) {
      throw translateNatsError(err, this.#url, what);
    }
  }

  follow(fromSequence: bigint, handler: FollowHandler, options: FollowOptions = {}): Follower {
    this.#checkUsable("following the write log", false);
    const filter = this.subjects.filter(options.project);
    const source: MessageSource = (position, signal) =>
      orderedMessages(
        { js: this.#js, jsm: this.#jsm, stream: this.#stream },
        filter,
        options.project === undefined,
        position,
        AbortSignal.any([signal, this.#closing.signal]),
      );
    const follower = startFollower(source, fromSequence, handler, { ...options, contiguous: options.project === undefined }, this.#delivery());
    this.#followers.add(follower);
    void follower.done.catch(() => {}).finally(() => this.#followers.delete(follower));
    return follower;
  }

  async consumer(options: ConsumerOptions): Promise<LogConsumer> {
    checkConsumerName(options.name);
    const what = `opening consumer "${options.name}"`;
    this.#checkUsable(what);
    const config = {
      durable_name: options.name,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: this.subjects.filter(options.project),
      ack_wait: nanos(options.ackWaitMs ?? 60_000),
      max_deliver: -1,
    };
    try {
      try {
        await this.#jsm.consumers.info(this.#stream, options.name);
      } catch (err) {
        if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound)) throw err;
        await this.#jsm.consumers.add(this.#stream, config);
      }
      const pull = await this.#js.consumers.get(this.#stream, options.name);
      const consumer = new JetStreamConsumer({
        name: options.name,
        consumer: pull,
        delivery: this.#delivery(),
        translate: (err, doing) => translateNatsError(err, this.#url, doing),
        checkUsable: (doing) => this.#checkUsable(doing),
        timeoutMs: this.#timeout,
        onClose: () => this.#consumers.delete(consumer),
      });
      this.#consumers.add(consumer);
      return consumer;
    } catch (err) {
      throw translateNatsError(err, this.#url, what);
    }
  }

  async deadLetter(message: RawLogMessage, reason: string): Promise<void> {
    const dead = deadLetterMessage(message, reason, this.subjects);
    const what = `filing a dead letter on ${dead.subject}`;
    this.#checkUsable(what);
    try {
      await this.#js.publish(dead.subject, dead.data, {
        msgID: dead.msgId,
        headers: toNatsHeaders(dead.headers),
        timeout: this.#timeout,
        expect: { streamName: this.#deadStream },
      });
    } catch (err) {
      throw translateNatsError(err, this.#url, what);
    }
  }

  async listDeadLetters(project: string, limit: number): Promise<DeadLetter[]> {
    const filter = this.subjects.deadFilter(project);
    const what = `listing the dead letters of ${project}`;
    this.#checkUsable(what);
    if (limit <= 0) return [];
    try {
      // Headers only, to find the latest `limit` without moving every payload; then those in full.
      const scan = await this.#js.consumers.get(this.#deadStream, { filter_subjects: filter, headers_only: true });
      const pending = (await scan.info(true)).num_pending;
      const latest: number[] = [];
      if (pending > 0) {
        const messages = await scan.consume({ max_messages: 256 });
        try {
          for await (const m of messages) {
            latest.push(m.seq);
            if (latest.length > limit) latest.shift();
            if (m.info.pending === 0) break;
          }
        } finally {
          messages.stop();
        }
      }
      await scan.delete().catch(() => {});
      const out: DeadLetter[] = [];
      for (const seq of latest) {
        const stored = await this.#jsm.streams.getMessage(this.#deadStream, { seq });
        if (stored === null) continue;
        const message = { subject: stored.subject, headers: headersOf(stored.header), data: stored.data, sequence: BigInt(stored.seq) };
        out.push(toDeadLetter(message, stored.time, this.subjects));
      }
      return out;
    } catch (err) {
      throw translateNatsError(err, this.#url, what);
    }
  }

  async lastSequence(): Promise<bigint> {
    const what = "reading the write log's last sequence";
    this.#checkUsable(what);
    try {
      const info = await this.#jsm.streams.info(this.#stream);
      return BigInt(info.state.last_seq);
    } catch (err) {
      throw translateNatsError(err, this.#url, what);
    }
  }

  async identity(): Promise<string> {
    const what = "reading the write log's identity";
    this.#checkUsable(what);
    try {
      const info = await this.#jsm.streams.info(this.#stream);
      // A stream's creation time changes only when it is deleted and made again.
      return `jetstream:${this.#stream}@${info.created}`;
    } catch (err) {
      throw translateNatsError(err, this.#url, what);
    }
  }

  async close(): Promise<void> {
    if (this.#closing.signal.aborted) return;
    this.#closing.abort();
    await Promise.all([...this.#followers].map((f) => f.stop()));
    await Promise.all([...this.#consumers].map((c) => c.close()));
    await this.#nc.close();
  }

  /** Deletes this log's streams and everything in them: for tests and for tearing a deployment down. */
  async destroy(): Promise<void> {
    for (const stream of [this.#stream, this.#deadStream]) {
      await this.#jsm.streams.delete(stream).catch((err: unknown) => {
        if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)) throw err;
      });
    }
  }

  #delivery() {
    return { subjects: this.subjects, deadLetter: (m: RawLogMessage, r: string) => this.deadLetter(m, r) };
  }

  /** UNAVAILABLE at once when closed or (for requests) while the connection is down: never queue a write for later. */
  #checkUsable(what: string, needConnection = true): void {
    if (this.#closing.signal.aborted)
      throw new UnavailableError(`${what}: the connection to NATS at ${displayUrl(this.#url)} is closed (the service is shutting down)`);
    if (needConnection && !this.#connected) throw new UnavailableError(`${what}: NATS at ${displayUrl(this.#url)} is unreachable (reconnecting); retry later`);
  }

  async #watchConnection(): Promise<void> {
    for await (const s of this.#nc.status()) {
      if (s.type === "disconnect") this.#connected = false;
      else if (s.type === "reconnect") this.#connected = true;
    }
  }
}
