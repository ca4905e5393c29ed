import { EventEmitter, once } from "node:events";
import type { Pool, PoolClient, QueryConfig } from "pg";
import { OutOfRangeError } from "@granary/errors";
import { ChangeSchema, type Change } from "@granary/proto/metadata";
import { CHANGES_CHANNEL } from "./catalogue-transaction.js";
import { fromRow } from "./json-resource.js";

const BATCH = 500;
/** How often a watcher looks for changes even without a notification (a lost NOTIFY heals). */
const POLL_MS = 1000;

/** Marks that every change up to `headRevision` has been delivered. */
export interface CaughtUp {
  readonly caughtUp: true;
  readonly headRevision: bigint;
}

export interface ChangeFeedLogger {
  warn(obj: object, msg?: string): void;
}

/**
 * The catalogue's change stream. One LISTEN connection per service wakes every watcher when a
 * revision commits; watchers then read the `changes` table from their last revision, so what they
 * deliver is always complete and in order, whatever happened to notifications.
 */
export class ChangeFeed {
  readonly #pool: Pool;
  readonly #logger: ChangeFeedLogger;
  readonly #wakeups = new EventEmitter().setMaxListeners(0);
  #listener: PoolClient | undefined;
  #closed = false;

  constructor(pool: Pool, logger: ChangeFeedLogger) {
    this.#pool = pool;
    this.#logger = logger;
  }

  /** Starts listening; reconnects in the background when the connection drops. */
  async start(): Promise<void> {
    if (this.#closed) return;
    let client: PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (err) {
      this.#logger.warn({ err }, "change listener cannot connect; retrying");
      this.#retry();
      return;
    }
    // close() may have run while we waited for a connection: a client kept now would never be
    // released, and pool.end() would wait for it forever.
    if (this.#closed) {
      client.release();
      return;
    }
    // Whoever clears #listener releases the client, exactly once (pg-pool throws on a second release).
    this.#listener = client;
    client.on("notification", () => this.#wakeups.emit("wake"));
    client.on("error", (err) => {
      if (this.#listener !== client) return;
      this.#listener = undefined;
      this.#logger.warn({ err }, "change listener lost its connection; reconnecting");
      client.release(err);
      this.#retry();
    });
    try {
      await client.query(`LISTEN ${CHANGES_CHANNEL}`);
    } catch (err) {
      if (this.#listener !== client) return;
      this.#listener = undefined;
      this.#logger.warn({ err }, "change listener cannot LISTEN; retrying");
      client.release(err instanceof Error ? err : true);
      this.#retry();
    }
  }

  #retry(): void {
    if (!this.#closed) setTimeout(() => void this.start(), POLL_MS).unref();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#wakeups.emit("wake");
    const client = this.#listener;
    this.#listener = undefined;
    if (client) {
      // Bounded: a stalled server must not hold the service's stop forever. A connection that did
      // not answer is destroyed, not returned to the pool.
      const unlisten: QueryConfig & { query_timeout: number } = { text: `UNLISTEN ${CHANGES_CHANNEL}`, query_timeout: 2_000 };
      const failed = await client.query(unlisten).then(
        () => undefined,
        (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
      );
      client.release(failed);
    }
  }

  /**
   * Every change after `fromRevision` (0: from the oldest retained), then live ones, until the
   * signal aborts. OUT_OF_RANGE when the requested revision is no longer retained.
   */
  async *watch(project: string, fromRevision: bigint, signal: AbortSignal): AsyncGenerator<Change | CaughtUp> {
    let last = fromRevision;
    let announced = false;
    if (last > 0n) {
      const { rows } = await this.#pool.query<{ oldest: string | null }>("SELECT min(revision)::text AS oldest FROM changes");
      const oldest = BigInt(rows[0]?.oldest ?? "0");
      if (oldest > last + 1n) {
        throw new OutOfRangeError(
          `revision ${fromRevision} is no longer retained (oldest is ${oldest}); read the catalogue again and watch from ${oldest - 1n}`,
        );
      }
    }
    while (!signal.aborted && !this.#closed) {
      // One statement, one snapshot: `head` is the newest revision committed when the batch was
      // read, so once a short batch is delivered the watcher has seen everything up to head.
      const { rows } = await this.#pool.query<{ head: string | null; revision: string | null; change: unknown }>(
        `SELECT h.head::text AS head, c.revision::text AS revision, c.change
         FROM (SELECT max(revision) AS head FROM changes) h
         LEFT JOIN LATERAL (
           SELECT revision, change FROM changes
           WHERE revision > $1 AND ($2 = '' OR project = $2) ORDER BY revision LIMIT $3
         ) c ON true
         ORDER BY c.revision`,
        [last.toString(), project, BATCH],
      );
      let delivered = 0;
      for (const row of rows) {
        if (row.revision === null) continue;
        last = BigInt(row.revision);
        delivered += 1;
        yield fromRow(ChangeSchema, row.change);
      }
      if (delivered === BATCH) continue;
      const head = BigInt(rows[0]?.head ?? "0");
      if (!announced || delivered > 0) {
        yield { caughtUp: true, headRevision: head > last ? head : last };
        announced = true;
      }
      await this.#nextWake(signal);
    }
  }

  async #nextWake(signal: AbortSignal): Promise<void> {
    const timeout = AbortSignal.timeout(POLL_MS);
    try {
      await once(this.#wakeups, "wake", { signal: AbortSignal.any([signal, timeout]) });
    } catch {
      // timed out or aborted: the loop decides
    }
  }
}
