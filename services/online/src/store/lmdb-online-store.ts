import { mkdirSync } from "node:fs";
import { open, type RootDatabase } from "lmdb";
import { inSpan } from "@granary/telemetry";
import { eventMicrosOf } from "./row-codec.js";
import { groupPrefix } from "./key-codec.js";
import { translateLmdbError, translateLmdbFailure } from "./lmdb-errors.js";
import { checkLmdbFiles } from "./lmdb-preflight.js";
import type { AppliedOp, Durability, OnlineStore, StoredRow, StoreOp } from "./online-store.js";
import type { RowChangeListener, StoreRecords } from "./row-changes.js";

// Keys of the store's own records sort before every row key (row keys begin with KEY_FORMAT, 0x01).
const APPLIED_SEQUENCE_KEY = Buffer.from("\x00log-applied-sequence", "latin1");
const LOG_IDENTITY_KEY = Buffer.from("\x00log-identity", "latin1");

export interface LmdbOnlineStoreOptions {
  path: string;
  mapSizeBytes: number;
  /**
   * Open the environment read-only (an online worker process: lookups here, writes through the
   * primary, LMDB's one writer). A write method then fails at once.
   */
  readOnly?: boolean;
}

/** A write transaction's put and remove of rows, told to the row-change listener when there is one. */
interface RowWriter {
  put(key: Buffer, value: Buffer): void;
  remove(key: Buffer): void;
}

/**
 * The online store on one LMDB environment (lmdb-js). A write transaction's promise resolves at
 * commit, which survives a crash of this process; `flushed` resolves once the OS has written it to
 * disk, which survives a crash of the machine. docs/online-durability.md has the details.
 * What lmdb-js throws leaves here typed (disk full, reader slots exhausted, …): see lmdb-errors.ts.
 */
export class LmdbOnlineStore implements OnlineStore {
  readonly #db: RootDatabase<Buffer, Buffer>;
  readonly #readOnly: boolean;
  #listener: RowChangeListener | undefined;
  readonly #records: StoreRecords;

  constructor(options: LmdbOnlineStoreOptions) {
    this.#readOnly = options.readOnly ?? false;
    mkdirSync(options.path, { recursive: true });
    checkLmdbFiles(options.path);
    this.#db = open<Buffer, Buffer>({
      path: options.path,
      mapSize: options.mapSizeBytes,
      readOnly: this.#readOnly,
      encoding: "binary",
      keyEncoding: "binary",
      // With event-turn batching, lmdb-js leaves the promise of a failed batch unhandled (one per
      // failed commit, write.js), so a full disk would end the process. Every write here is its
      // own transaction, so the batching adds nothing the write thread does not already do.
      eventTurnBatching: false,
    });
    const db = this.#db;
    this.#records = {
      get: (key) => db.getBinary(key),
      put: (key, value) => void db.put(key, value),
      remove: (key) => void db.remove(key),
    };
  }

  /** Lets a listener hear every row change inside its write transaction (the nearest-neighbour indexes). */
  listen(listener: RowChangeListener): void {
    this.#listener = listener;
  }

  /**
   * Runs `work` as one write transaction, its row changes heard by the listener; when the
   * transaction fails the listener hears which keys it had been told of.
   */
  async #transaction<T>(work: (rows: RowWriter) => T): Promise<T> {
    const db = this.#db;
    const listener = this.#listener;
    if (!listener) {
      return db.transaction(() =>
        work({
          put: (key, value) => void db.put(key, value),
          remove: (key) => void db.remove(key),
        }),
      );
    }
    const touched: Buffer[] = [];
    const records = this.#records;
    try {
      return await db.transaction(() => {
        const result = work({
          put: (key, value) => {
            void db.put(key, value);
            touched.push(key);
            listener.changed(key, value, records);
          },
          remove: (key) => {
            void db.remove(key);
            touched.push(key);
            listener.changed(key, undefined, records);
          },
        });
        listener.settle();
        return result;
      });
    } catch (err) {
      listener.failed(touched);
      throw err;
    }
  }

  /** The store's own records and rows between two keys, in key order (the listener's scans). */
  range(start: Buffer, end: Buffer): Iterable<{ key: Buffer; value: Buffer }> {
    return this.#db.getRange({ start, end }) as Iterable<{ key: Buffer; value: Buffer }>;
  }

  /** Writes the store's own records (keys beginning with 0x00) as one transaction. */
  writeRecords(work: (records: StoreRecords) => void): Promise<void> {
    return typed(this.#db.transaction(() => work(this.#records)).then(() => {}));
  }

  upsert(rows: readonly StoredRow[], durability: Durability, logSequence?: bigint): Promise<{ written: number; ignored: number }> {
    return inSpan("granary.online", "lmdb.write", writeAttributes("upsert", rows.length, durability), async (span) => {
      let bytes = 0;
      for (const row of rows) bytes += row.key.length + row.value.length;
      const result = await typed(this.#upsert(rows, durability, logSequence));
      span.setAttributes({ "granary.bytes": bytes, "granary.rows.written": result.written, "granary.rows.ignored": result.ignored });
      return result;
    });
  }

  async #upsert(rows: readonly StoredRow[], durability: Durability, logSequence: bigint | undefined): Promise<{ written: number; ignored: number }> {
    const db = this.#db;
    let written = 0;
    let ignored = 0;
    await this.#transaction((writer) => {
      if (logSequence !== undefined) this.#putApplied(logSequence);
      const fresh = this.#allNew(rows);
      for (const row of rows) {
        const current = fresh ? undefined : db.getBinaryFast(row.key);
        if (current !== undefined && eventMicrosOf(current) > row.eventMicros) {
          ignored++;
          continue;
        }
        // Inside a transaction callback lmdb-js applies the write at once; its promise is the
        // transaction's, awaited above.
        writer.put(row.key, row.value);
        written++;
      }
    });
    if (durability === "flushed") await db.flushed;
    return { written, ignored };
  }

  /**
   * Inside a write transaction: whether the rows' keys are strictly increasing (so none repeats)
   * and the store holds no key between the first and the last, so no row can meet a stored one
   * and the per-row read can be skipped (a bulk load of new keys in key order). One range seek
   * and a comparison per row; any doubt answers false.
   */
  #allNew(rows: readonly StoredRow[]): boolean {
    if (rows.length < 2) return false;
    for (let i = 1; i < rows.length; i++) if (Buffer.compare(rows[i - 1]!.key, rows[i]!.key) >= 0) return false;
    const last = rows[rows.length - 1]!.key;
    // The key right after `last` in LMDB's order (`last` followed by a zero byte): the range's end, exclusive.
    const end = Buffer.alloc(last.length + 1);
    end.set(last);
    for (const _ of this.#db.getRange({ start: rows[0]!.key, end, limit: 1 })) return false;
    return true;
  }

  delete(keys: readonly Buffer[], durability: Durability, logSequence?: bigint): Promise<number> {
    return inSpan("granary.online", "lmdb.write", writeAttributes("delete", keys.length, durability), async (span) => {
      const deleted = await typed(this.#delete(keys, durability, logSequence));
      span.setAttribute("granary.rows.deleted", deleted);
      return deleted;
    });
  }

  async #delete(keys: readonly Buffer[], durability: Durability, logSequence: bigint | undefined): Promise<number> {
    const db = this.#db;
    let deleted = 0;
    await this.#transaction((writer) => {
      if (logSequence !== undefined) this.#putApplied(logSequence);
      for (const key of keys) {
        if (db.getBinaryFast(key) !== undefined) {
          writer.remove(key);
          deleted++;
        }
      }
    });
    if (durability === "flushed") await db.flushed;
    return deleted;
  }

  apply(ops: readonly StoreOp[], logSequence: bigint): Promise<AppliedOp[]> {
    const size = ops.reduce((n, op) => n + (op.kind === "upsert" ? op.rows.length : op.keys.length), 0);
    return inSpan("granary.online", "lmdb.write", { ...writeAttributes("apply", size, "committed"), "granary.log.sequence": Number(logSequence) }, () =>
      this.#apply(ops, logSequence),
    );
  }

  #apply(ops: readonly StoreOp[], logSequence: bigint): Promise<AppliedOp[]> {
    const db = this.#db;
    return typed(
      (async () => {
        const applied: AppliedOp[] = [];
        await this.#transaction((writer) => {
          this.#putApplied(logSequence);
          for (const op of ops) {
            let written = 0;
            let ignored = 0;
            let deleted = 0;
            if (op.kind === "upsert") {
              for (const row of op.rows) {
                const current = db.getBinaryFast(row.key);
                if (current !== undefined && eventMicrosOf(current) > row.eventMicros) {
                  ignored++;
                  continue;
                }
                writer.put(row.key, row.value);
                written++;
              }
            } else {
              for (const key of op.keys) {
                if (db.getBinaryFast(key) !== undefined) {
                  writer.remove(key);
                  deleted++;
                }
              }
            }
            applied.push({ written, ignored, deleted });
          }
        });
        return applied;
      })(),
    );
  }

  logIdentity(): string | undefined {
    return this.#db.getBinaryFast(LOG_IDENTITY_KEY)?.toString("utf8");
  }

  setLogIdentity(identity: string): Promise<void> {
    return typed(this.#db.put(LOG_IDENTITY_KEY, Buffer.from(identity, "utf8")).then(() => {}));
  }

  appliedSequence(): bigint {
    const value = this.#db.getBinaryFast(APPLIED_SEQUENCE_KEY);
    return value === undefined ? 0n : value.readBigUInt64BE(0);
  }

  recordApplied(logSequence: bigint, durability: Durability): Promise<void> {
    return typed(
      (async () => {
        await this.#db.transaction(() => this.#putApplied(logSequence));
        if (durability === "flushed") await this.#db.flushed;
      })(),
    );
  }

  // Inside a write transaction. Positions only move forward: a batch met again (a redelivery after
  // a crash between apply and acknowledgement) never moves the record back.
  #putApplied(logSequence: bigint): void {
    const current = this.#db.getBinaryFast(APPLIED_SEQUENCE_KEY);
    if (current !== undefined && current.readBigUInt64BE(0) >= logSequence) return;
    const value = Buffer.alloc(8);
    value.writeBigUInt64BE(logSequence);
    void this.#db.put(APPLIED_SEQUENCE_KEY, value);
  }

  get(key: Buffer): Buffer | undefined {
    try {
      return this.#db.getBinaryFast(key);
    } catch (err) {
      throw translateLmdbError(err);
    }
  }

  getCopy(key: Buffer): Buffer | undefined {
    try {
      return this.#db.getBinary(key);
    } catch (err) {
      throw translateLmdbError(err);
    }
  }

  scanGroup(groupId: bigint): Iterable<{ key: Buffer; value: Buffer }> {
    return this.range(groupPrefix(groupId), groupPrefix(groupId + 1n));
  }

  purgeExpired(groupId: bigint, beforeMicros: bigint, limit: number): Promise<number> {
    return typed(this.#purgeExpired(groupId, beforeMicros, limit));
  }

  async #purgeExpired(groupId: bigint, beforeMicros: bigint, limit: number): Promise<number> {
    const db = this.#db;
    const expired: Buffer[] = [];
    for (const { key, value } of db.getRange({ start: groupPrefix(groupId), end: groupPrefix(groupId + 1n) })) {
      if (eventMicrosOf(value) < beforeMicros) expired.push(Buffer.from(key));
      if (expired.length >= limit) break;
    }
    if (expired.length === 0) return 0;
    await this.#transaction((writer) => {
      // Re-check inside the transaction: a newer row may have arrived since the scan.
      for (const key of expired) {
        const current = db.getBinaryFast(key);
        if (current !== undefined && eventMicrosOf(current) < beforeMicros) writer.remove(key);
      }
    });
    return expired.length;
  }

  /**
   * Lets the next read see what other processes committed since this one's read snapshot began.
   * lmdb-js keeps one read transaction per process and resets it only on a timer (setTimeout 0),
   * which can fire after the next request arrives; a worker calls this as each event turn starts.
   */
  refreshSnapshot(): void {
    this.#db.resetReadTxn();
  }

  async close(): Promise<void> {
    if (this.#readOnly) return this.#db.close();
    await this.#db.flushed;
    await this.#db.close();
  }
}

/** Attributes of an `lmdb.write` span: one write transaction of the online store. */
function writeAttributes(operation: string, size: number, durability: Durability) {
  return { "db.system.name": "lmdb", "db.operation.name": operation, "db.operation.batch.size": size, "granary.durability": durability };
}

async function typed<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    throw await translateLmdbFailure(err);
  }
}
