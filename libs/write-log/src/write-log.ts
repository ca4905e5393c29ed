import type { ColumnarRows } from "@granary/proto/types";

/** What a batch does to the online store: upsert rows, or delete the rows of the given keys (a tombstone). */
export type BatchKind = "upsert" | "delete";

/** Which write path produced a batch: online WriteRows, the online copy of an offline Insert, or a producer publishing to NATS itself. */
export type BatchOrigin = "write-rows" | "insert" | "external";

/** One batch of rows of one feature group version: one message of the log. */
export interface LogBatch {
  readonly project: string;
  readonly group: string;
  readonly version: number;
  readonly kind: BatchKind;
  readonly origin: BatchOrigin;
  /** The group's columns for an upsert; the primary-key columns for a delete. */
  readonly rows: ColumnarRows;
  /**
   * The idempotency key of the batch (`Nats-Msg-Id`): a second append with the same id inside the
   * duplicate window is stored once. Generated when absent; retry with the id the result returned.
   */
  readonly msgId?: string;
}

export interface AppendResult {
  /** The batch's position in the log; a duplicate gets the sequence of the batch stored first. */
  readonly sequence: bigint;
  /** True when the log already held a batch with this msgId (inside the duplicate window). */
  readonly duplicate: boolean;
  readonly msgId: string;
}

/** A message as it travels: what a dead letter keeps, and what a producer outside Granary publishes. */
export interface RawLogMessage {
  readonly subject: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly data: Uint8Array;
  /** Its sequence in the log, once stored. */
  readonly sequence?: bigint;
}

/** A stored batch, decoded, as followers and consumers receive it. */
export interface LogEntry {
  readonly sequence: bigint;
  readonly project: string;
  readonly group: string;
  readonly version: number;
  readonly kind: BatchKind;
  readonly origin: BatchOrigin;
  readonly msgId: string;
  readonly rows: ColumnarRows;
  /** The message as stored, to dead-letter it (or part of it) when a consumer refuses it. */
  readonly raw: RawLogMessage;
}

export type FollowHandler = (entry: LogEntry) => void | Promise<void>;

export interface FollowOptions {
  /** Follow one project's subjects only; every project when absent. */
  readonly project?: string;
  /**
   * Called, in order with the entries, after a message that could not be decoded went to the dead
   * letters: a replica that records its applied sequence records this one too, so it does not
   * meet the message again after a restart.
   */
  readonly onDeadLetter?: (sequence: bigint, reason: string) => void | Promise<void>;
}

/** A running follow: entries arrive one at a time, each after the previous handler call settled. */
export interface Follower {
  /** The sequence of the last message handed over (or dead-lettered); the `fromSequence` before any. */
  readonly position: bigint;
  /** Settles when the follower ends: resolves after stop(), rejects with the handler's error or a fatal log error. */
  readonly done: Promise<void>;
  /** Ends the follow after the handler call in progress; resolves once it has ended. */
  stop(): Promise<void>;
}

/** A dead letter: the refused message, with why and where it came from. */
export interface DeadLetter {
  /** Its position among the dead letters. */
  readonly sequence: bigint;
  /** The project it is filed under (`_invalid` when its subject names none). */
  readonly project: string;
  /** The subject it was published to. */
  readonly subject: string;
  readonly reason: string;
  /** Its sequence in the log, when it was refused after being stored there. */
  readonly originalSequence: bigint | undefined;
  readonly time: Date;
  readonly headers: Readonly<Record<string, string>>;
  readonly data: Uint8Array;
}

export interface ConsumerOptions {
  /** The durable name: the log remembers what this name acknowledged, across restarts. */
  readonly name: string;
  /** Consume one project's subjects only; every project when absent. */
  readonly project?: string;
  /** A fetched batch neither acknowledged nor released within this time is delivered again; default 60 s. */
  readonly ackWaitMs?: number;
}

export interface FetchOptions {
  /** At most this many messages (batches of rows) per fetch. */
  readonly maxMessages: number;
  /** Return what has arrived after this long, even fewer than maxMessages (possibly none). */
  readonly maxWaitMs: number;
}

/** Messages fetched by a durable consumer, to acknowledge once what they carry is committed. */
export interface ConsumedBatch {
  /** Decodable entries in the order they were delivered; undecodable ones already went to the dead letters. */
  readonly entries: readonly LogEntry[];
  /** Acknowledges every message of the fetch (dead-lettered ones included): they are not delivered again. */
  ack(): Promise<void>;
  /** Releases every message of the fetch for delivery again at once. */
  nak(): Promise<void>;
}

/** A durable pull consumer: at-least-once delivery, remembered by name (the offline micro-batcher). */
export interface LogConsumer {
  fetch(options: FetchOptions): Promise<ConsumedBatch>;
  /** Stops fetching; messages fetched and not acknowledged are released for delivery again. */
  close(): Promise<void>;
}

/**
 * The durable write log (issue 16): every write path appends batches; online replicas follow it into
 * their LMDB; the offline service consumes it into commits. Adapters: JetStreamWriteLog (NATS
 * JetStream) and LocalWriteLog (an LMDB file, for one process without NATS).
 */
export interface WriteLog {
  /** Stores a batch; resolves once the log has it (replicated, when the stream is). UNAVAILABLE when the log cannot be reached. */
  append(batch: LogBatch): Promise<AppendResult>;
  /** Delivers every entry after `fromSequence` in log order, then new ones as they arrive, until stopped. */
  follow(fromSequence: bigint, handler: FollowHandler, options?: FollowOptions): Follower;
  /** Opens (creating it on first use) a durable consumer. */
  consumer(options: ConsumerOptions): Promise<LogConsumer>;
  /** Files a message under the dead letters with the reason; the same message and reason twice in the duplicate window are filed once. */
  deadLetter(message: RawLogMessage, reason: string): Promise<void>;
  /** A project's latest dead letters, at most `limit`, oldest first. */
  listDeadLetters(project: string, limit: number): Promise<DeadLetter[]>;
  /** The sequence of the last stored message; 0 when the log is empty. */
  lastSequence(): Promise<bigint>;
  /**
   * Which log this is: the same for every client of one log, different once it is recreated
   * (a deleted and re-made stream starts its sequences again). A replica keeps it with its applied
   * sequence, so it never takes a new log's sequence 1 for one it has already applied.
   */
  identity(): Promise<string>;
  /** Stops followers and consumers and releases the connection or file. */
  close(): Promise<void>;
}
