import type { Pool } from "pg";
import type { AuditEvent } from "@granary/proto/metadata";
import { insertAuditEvents } from "../store/audit-store.js";

const FLUSH_MS = 500;
const BATCH = 500;
const MAX_QUEUED = 10_000;

export interface AuditSinkLogger {
  warn(obj: object, msg?: string): void;
}

/**
 * The metadata service's own audit events, written to audit_events in batches behind the calls
 * they describe: a call never waits for its audit row, and never fails because of it. When
 * PostgreSQL refuses a batch it is dropped with a warning (every event's structured log line has
 * been written already).
 */
export class AuditSink {
  readonly #pool: Pool;
  readonly #logger: AuditSinkLogger;
  #queue: AuditEvent[] = [];
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();

  constructor(pool: Pool, logger: AuditSinkLogger) {
    this.#pool = pool;
    this.#logger = logger;
  }

  readonly push = (event: AuditEvent): void => {
    if (this.#queue.length >= MAX_QUEUED) this.#queue.shift();
    this.#queue.push(event);
    if (this.#queue.length >= BATCH) void this.flush();
    else this.#timer ??= setTimeout(() => void this.flush(), FLUSH_MS).unref();
  };

  /** Writes what is queued (resolves once written or given up). */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#queue;
    this.#queue = [];
    this.#writing = this.#writing.then(async () => {
      for (let i = 0; i < batch.length; i += BATCH) {
        const part = batch.slice(i, i + BATCH);
        try {
          await insertAuditEvents(this.#pool, part);
        } catch (err) {
          this.#logger.warn({ err, dropped: part.length }, "cannot write audit events to PostgreSQL; dropping them");
        }
      }
    });
    return this.#writing;
  }
}
