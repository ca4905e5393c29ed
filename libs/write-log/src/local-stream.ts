import type { Database, RootDatabase } from "lmdb";
import type { StoredMessage } from "./follower.js";
import { translateLocalError } from "./local-errors.js";

/** How a record sits in LMDB: short keys keep msgpack small next to the payload. */
interface StoredRecord {
  readonly s: string;
  readonly h: Record<string, string>;
  readonly d: Uint8Array;
  /** Milliseconds since the epoch, when stored. */
  readonly t: number;
}

interface SeenId {
  readonly q: number;
  readonly t: number;
}

export type LocalDurability = "committed" | "flushed";

/** Ids older than the duplicate window pruned per append: bounded work, and the index never grows without bound. */
const PRUNE_PER_APPEND = 32;

/**
 * One append-only sequence of messages in an LMDB environment, keyed by sequence from 1, with
 * JetStream's duplicate window: a message whose msgId was stored less than `duplicateWindowMs`
 * ago is not stored again, and its first sequence is returned. The local log holds two of these,
 * as JetStream holds two streams: the log and its dead letters.
 */
export class LocalStream {
  readonly #root: RootDatabase;
  readonly #log: Database<StoredRecord, number>;
  readonly #ids: Database<SeenId, string>;
  /** sequence → msgId, oldest first: what the duplicate window prunes from. */
  readonly #idOrder: Database<string, number>;
  readonly #windowMs: number;
  readonly #durability: LocalDurability;
  #wake: () => void = () => {};
  #appended: Promise<void>;

  constructor(root: RootDatabase, name: string, options: { duplicateWindowMs: number; durability: LocalDurability }) {
    this.#root = root;
    this.#log = root.openDB<StoredRecord, number>({ name, encoding: "msgpack" });
    this.#ids = root.openDB<SeenId, string>({ name: `${name}.ids`, encoding: "msgpack" });
    this.#idOrder = root.openDB<string, number>({ name: `${name}.id-order`, encoding: "string" });
    this.#windowMs = options.duplicateWindowMs;
    this.#durability = options.durability;
    this.#appended = this.#nextAppend();
  }

  /** Stores a message unless its msgId is in the duplicate window; resolves once committed (and flushed, when asked). */
  async append(
    message: { subject: string; headers: Record<string, string> },
    data: Uint8Array,
    msgId: string,
  ): Promise<{ sequence: number; duplicate: boolean }> {
    const now = Date.now();
    let result: { sequence: number; duplicate: boolean };
    try {
      result = await this.#root.transaction(() => {
        const seen = this.#ids.get(msgId);
        if (seen !== undefined && now - seen.t < this.#windowMs) return { sequence: seen.q, duplicate: true };
        const sequence = this.lastSequence() + 1;
        // Inside a transaction callback lmdb-js applies each write at once; the promise that matters is the transaction's.
        void this.#log.put(sequence, { s: message.subject, h: message.headers, d: data, t: now });
        void this.#ids.put(msgId, { q: sequence, t: now });
        void this.#idOrder.put(sequence, msgId);
        this.#pruneIds(now);
        return { sequence, duplicate: false };
      });
      if (this.#durability === "flushed") await this.#root.flushed;
    } catch (err) {
      throw translateLocalError(err);
    }
    if (!result.duplicate) this.#wake();
    return result;
  }

  lastSequence(): number {
    for (const key of this.#log.getKeys({ reverse: true, limit: 1 })) return key;
    return 0;
  }

  get(sequence: number): StoredMessage | undefined {
    const record = this.#log.get(sequence);
    return record === undefined ? undefined : toMessage(sequence, record);
  }

  /** Up to `limit` messages after `after`, oldest first, those whose subject `accept`s. */
  read(after: number, limit: number, accept: (subject: string) => boolean = () => true): StoredMessage[] {
    const out: StoredMessage[] = [];
    for (const { key, value } of this.#log.getRange({ start: after + 1 })) {
      if (!accept(value.s)) continue;
      out.push(toMessage(key, value));
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Up to `limit` of the latest messages whose subject `accept`s, oldest first. */
  readLatest(limit: number, accept: (subject: string) => boolean): (StoredMessage & { time: Date })[] {
    const out: (StoredMessage & { time: Date })[] = [];
    if (limit <= 0) return out;
    for (const { key, value } of this.#log.getRange({ reverse: true })) {
      if (!accept(value.s)) continue;
      out.push({ ...toMessage(key, value), time: new Date(value.t) });
      if (out.length >= limit) break;
    }
    return out.reverse();
  }

  /** Resolves at the next committed append. */
  appended(): Promise<void> {
    return this.#appended;
  }

  #nextAppend(): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = () => {
        this.#appended = this.#nextAppend();
        resolve();
      };
    });
  }

  #pruneIds(now: number): void {
    let n = 0;
    for (const { key, value: msgId } of this.#idOrder.getRange({})) {
      const seen = this.#ids.get(msgId);
      if (seen?.q === key) {
        if (now - seen.t < this.#windowMs) break;
        void this.#ids.remove(msgId);
      }
      void this.#idOrder.remove(key);
      if (++n >= PRUNE_PER_APPEND) break;
    }
  }
}

function toMessage(sequence: number, record: StoredRecord): StoredMessage {
  return { subject: record.s, headers: record.h, data: record.d, sequence: BigInt(sequence) };
}
