import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { open, type Database, type RootDatabase } from "lmdb";
import { UnavailableError } from "@granary/errors";
import { startFollower, sleep, type MessageSource } from "./follower.js";
import { checkMessageSize, deadLetterMessage, encodeBatch } from "./log-message.js";
import { LocalConsumer } from "./local-consumer.js";
import { LocalStream, type LocalDurability } from "./local-stream.js";
import { toDeadLetter } from "./dead-letters.js";
import { LogSubjects } from "./subjects.js";
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

export interface LocalWriteLogOptions {
  /** The LMDB environment's directory. */
  readonly path: string;
  /** Default 1 GiB: a map size is a bound, not an allocation. */
  readonly mapSizeBytes?: number;
  /** "committed" survives a crash of the process, "flushed" (the default) one of the machine. */
  readonly durability?: LocalDurability;
  /** Default 2 minutes, as JetStream's. */
  readonly duplicateWindowMs?: number;
  /** Largest message (headers and payload); default 1 MiB, NATS's default max_payload, so a batch fits both adapters. */
  readonly maxMessageBytes?: number;
  readonly subjectPrefix?: string;
  readonly deadSubjectPrefix?: string;
}

const READ_CHUNK = 64;

/**
 * The write log in one LMDB file, for `npm start` without NATS: an append-only sequence of
 * messages keyed by sequence, the same subjects, headers and payloads as on JetStream, followed
 * in-process. One process opens it; it keeps every message (no retention yet).
 */
export class LocalWriteLog implements WriteLog {
  readonly subjects: LogSubjects;
  readonly #root: RootDatabase;
  readonly #log: LocalStream;
  readonly #dead: LocalStream;
  readonly #cursors: Database<number, string>;
  readonly #maxMessageBytes: number;
  readonly #followers = new Set<Follower>();
  readonly #consumers = new Set<LocalConsumer>();
  readonly #closing = new AbortController();

  constructor(options: LocalWriteLogOptions) {
    this.subjects = new LogSubjects(options.subjectPrefix ?? "granary", options.deadSubjectPrefix ?? "granary-dead");
    mkdirSync(options.path, { recursive: true });
    this.#root = open({ path: options.path, mapSize: options.mapSizeBytes ?? 1024 ** 3, maxDbs: 8, eventTurnBatching: false });
    const streamOptions = { duplicateWindowMs: options.duplicateWindowMs ?? 120_000, durability: options.durability ?? "flushed" };
    this.#log = new LocalStream(this.#root, "log", streamOptions);
    this.#dead = new LocalStream(this.#root, "dead", streamOptions);
    this.#cursors = this.#root.openDB<number, string>({ name: "consumers", encoding: "msgpack" });
    this.#maxMessageBytes = options.maxMessageBytes ?? 1024 * 1024;
  }

  async append(batch: LogBatch): Promise<AppendResult> {
    const message = encodeBatch(batch, this.subjects);
    return this.appendRaw(message, message.msgId);
  }

  /** Stores a message as given, unchecked: what a producer outside Granary may publish to NATS (tests use it for poison). */
  async appendRaw(message: RawLogMessage, msgId = message.headers["Nats-Msg-Id"] ?? crypto.randomUUID()): Promise<AppendResult> {
    this.#checkOpen();
    checkMessageSize(message, this.#maxMessageBytes);
    const { sequence, duplicate } = await this.#log.append({ subject: message.subject, headers: { ...message.headers } }, message.data, msgId);
    return { sequence: BigInt(sequence), duplicate, msgId };
  }

  follow(fromSequence: bigint, handler: FollowHandler, options: FollowOptions = {}): Follower {
    this.#checkOpen();
    const filter = this.subjects.filter(options.project);
    const accept = subjectFilter(filter);
    const source: MessageSource = (position, signal) => this.#messages(position, signal, accept);
    const follower = startFollower(
      source,
      fromSequence,
      handler,
      { ...options, contiguous: options.project === undefined },
      { subjects: this.subjects, deadLetter: (m, r) => this.deadLetter(m, r) },
    );
    this.#followers.add(follower);
    void follower.done.catch(() => {}).finally(() => this.#followers.delete(follower));
    return follower;
  }

  async consumer(options: ConsumerOptions): Promise<LogConsumer> {
    this.#checkOpen();
    const accept = subjectFilter(this.subjects.filter(options.project));
    const consumer = new LocalConsumer({
      name: options.name,
      ackWaitMs: options.ackWaitMs ?? 60_000,
      cursors: this.#cursors,
      read: (after, limit) => this.#log.read(after, limit, accept),
      get: (sequence) => this.#log.get(sequence),
      appended: () => this.#log.appended(),
      closing: this.#closing.signal,
      delivery: { subjects: this.subjects, deadLetter: (m, r) => this.deadLetter(m, r) },
      onClose: () => this.#consumers.delete(consumer),
    });
    this.#consumers.add(consumer);
    return consumer;
  }

  async deadLetter(message: RawLogMessage, reason: string): Promise<void> {
    this.#checkOpen();
    const dead = deadLetterMessage(message, reason, this.subjects);
    await this.#dead.append(dead as { subject: string; headers: Record<string, string> }, dead.data, dead.msgId);
  }

  async listDeadLetters(project: string, limit: number): Promise<DeadLetter[]> {
    this.#checkOpen();
    const accept = subjectFilter(this.subjects.deadFilter(project));
    return this.#dead.readLatest(limit, accept).map((m) => toDeadLetter(m, m.time, this.subjects));
  }

  async lastSequence(): Promise<bigint> {
    this.#checkOpen();
    return BigInt(this.#log.lastSequence());
  }

  async identity(): Promise<string> {
    this.#checkOpen();
    const meta = this.#root.openDB<string, string>({ name: "meta", encoding: "string" });
    let id = meta.get("identity");
    if (id === undefined) {
      // Made once, with the file: a new file is a new log.
      const made = `local:${randomUUID()}`;
      await meta.ifNoExists("identity", () => void meta.put("identity", made));
      id = meta.get("identity")!;
    }
    return id;
  }

  async close(): Promise<void> {
    if (this.#closing.signal.aborted) return;
    this.#closing.abort();
    await Promise.all([...this.#followers].map((f) => f.stop()));
    await Promise.all([...this.#consumers].map((c) => c.close()));
    await this.#root.close();
  }

  async *#messages(position: () => bigint, signal: AbortSignal, accept: (subject: string) => boolean): AsyncGenerator<RawLogMessage & { sequence: bigint }> {
    const stop = AbortSignal.any([signal, this.#closing.signal]);
    while (!stop.aborted) {
      // Taken before reading, so an append committed during the read still wakes the loop.
      const appended = this.#log.appended();
      const messages = this.#log.read(Number(position()), READ_CHUNK, accept);
      if (messages.length === 0) {
        await Promise.race([appended, sleep(60_000, stop)]);
        continue;
      }
      for (const message of messages) {
        if (stop.aborted) return;
        yield message;
      }
    }
  }

  #checkOpen(): void {
    if (this.#closing.signal.aborted) throw new UnavailableError("the local write log is closed (the service is shutting down)");
  }
}

/** A NATS subject filter (`a.b.>` or an exact subject) as a predicate. */
export function subjectFilter(filter: string): (subject: string) => boolean {
  if (!filter.endsWith(".>")) return (subject) => subject === filter;
  const prefix = filter.slice(0, -1);
  return (subject) => subject.startsWith(prefix) && subject.length > prefix.length;
}
