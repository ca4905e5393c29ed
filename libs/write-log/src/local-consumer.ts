import type { Database } from "lmdb";
import { UnavailableError } from "@granary/errors";
import { decodeOrDeadLetter, sleep, type DeliveryDeps, type StoredMessage } from "./follower.js";
import { translateLocalError } from "./local-errors.js";
import { checkConsumerName } from "./subjects.js";
import type { ConsumedBatch, FetchOptions, LogConsumer, LogEntry } from "./write-log.js";

export interface LocalConsumerDeps {
  readonly name: string;
  readonly ackWaitMs: number;
  /** name → the sequence through which everything it was given is acknowledged. */
  readonly cursors: Database<number, string>;
  readonly read: (after: number, limit: number) => StoredMessage[];
  readonly get: (sequence: number) => StoredMessage | undefined;
  readonly appended: () => Promise<void>;
  readonly closing: AbortSignal;
  readonly delivery: DeliveryDeps;
  readonly onClose: () => void;
}

/**
 * A durable consumer of the local log, as JetStream's explicit-ack pull consumer behaves: what is
 * fetched and not acknowledged within ackWaitMs, released with nak(), or left when the consumer
 * closes, is delivered again; what is acknowledged never is. The acknowledged floor persists in
 * the log's LMDB under the consumer's name. One instance per name at a time.
 */
export class LocalConsumer implements LogConsumer {
  readonly #deps: LocalConsumerDeps;
  /** Everything up to here is acknowledged (persisted). */
  #floor: number;
  /** The highest sequence handed out. */
  #delivered: number;
  /** sequence → when it is released if not acknowledged. */
  readonly #inFlight = new Map<number, number>();
  /** Released sequences, delivered again before new ones, lowest first. */
  #released: number[] = [];
  #closed = false;

  constructor(deps: LocalConsumerDeps) {
    checkConsumerName(deps.name);
    this.#deps = deps;
    this.#floor = deps.cursors.get(deps.name) ?? 0;
    this.#delivered = this.#floor;
  }

  async fetch(options: FetchOptions): Promise<ConsumedBatch> {
    const deadline = Date.now() + options.maxWaitMs;
    const picked: StoredMessage[] = [];
    for (;;) {
      this.#checkOpen();
      const appended = this.#deps.appended();
      this.#releaseExpired(Date.now());
      while (this.#released.length > 0 && picked.length < options.maxMessages) {
        const message = this.#deps.get(this.#released.shift()!);
        if (message !== undefined) picked.push(message);
      }
      if (picked.length < options.maxMessages) {
        const fresh = this.#deps.read(this.#delivered, options.maxMessages - picked.length);
        if (fresh.length > 0) this.#delivered = Number(fresh.at(-1)!.sequence);
        picked.push(...fresh);
      }
      const left = deadline - Date.now();
      if (picked.length >= options.maxMessages || left <= 0) break;
      await Promise.race([appended, sleep(left, this.#deps.closing)]);
    }
    const until = Date.now() + this.#deps.ackWaitMs;
    const sequences = picked.map((m) => Number(m.sequence));
    for (const s of sequences) this.#inFlight.set(s, until);
    const entries: LogEntry[] = [];
    try {
      for (const message of picked) {
        const decoded = await decodeOrDeadLetter(message, this.#deps.delivery);
        if (!("deadReason" in decoded)) entries.push(decoded);
      }
    } catch (err) {
      this.#release(sequences);
      throw err;
    }
    return { entries, ack: () => this.#ack(sequences), nak: async () => this.#release(sequences) };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#deps.onClose();
  }

  async #ack(sequences: readonly number[]): Promise<void> {
    this.#checkOpen();
    for (const s of sequences) this.#inFlight.delete(s);
    const acked = new Set(sequences);
    this.#released = this.#released.filter((s) => !acked.has(s));
    let floor = this.#delivered;
    for (const s of this.#inFlight.keys()) floor = Math.min(floor, s - 1);
    for (const s of this.#released) floor = Math.min(floor, s - 1);
    if (floor <= this.#floor) return;
    try {
      await this.#deps.cursors.put(this.#deps.name, floor);
    } catch (err) {
      throw translateLocalError(err);
    }
    this.#floor = Math.max(this.#floor, floor);
  }

  #release(sequences: readonly number[]): void {
    for (const s of sequences) {
      if (this.#inFlight.delete(s)) this.#released.push(s);
    }
    this.#released.sort((a, b) => a - b);
  }

  #releaseExpired(now: number): void {
    const expired = [...this.#inFlight].filter(([, until]) => until <= now).map(([s]) => s);
    if (expired.length > 0) this.#release(expired);
  }

  #checkOpen(): void {
    if (this.#closed || this.#deps.closing.aborted) throw new UnavailableError(`consumer "${this.#deps.name}" of the local write log is closed`);
  }
}
