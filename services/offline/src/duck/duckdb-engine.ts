import { mkdirSync } from "node:fs";
import { join } from "node:path";
import duckdb from "@duckdb/node-bindings";
import { registerArrowScan } from "./arrow-scan.js";
import { DuckConnection } from "./duck-connection.js";

export interface DuckEngineOptions {
  readonly dataRoot: string;
  readonly threads: number;
  readonly memoryLimit: string;
  /** Queries running at once; the rest queue in arrival order. */
  readonly maxQueries: number;
}

interface Waiter {
  resolve(c: DuckConnection): void;
  reject(err: unknown): void;
}

/**
 * The offline query engine: one in-memory DuckDB reading the Parquet history under the data root,
 * spilling to <root>/.duckdb-tmp when a query outgrows its memory limit. Work runs on pooled
 * connections, at most `maxQueries` at a time, first come first served: a long training-data
 * stream holds one connection and never blocks the others.
 */
export class DuckEngine {
  readonly #db: duckdb.Database;
  readonly #max: number;
  readonly #idle: DuckConnection[] = [];
  readonly #waiters: Waiter[] = [];
  #open = 0;
  #busy = 0;
  #closed = false;

  private constructor(db: duckdb.Database, max: number) {
    this.#db = db;
    this.#max = max;
  }

  static async open(options: DuckEngineOptions): Promise<DuckEngine> {
    mkdirSync(options.dataRoot, { recursive: true });
    const tmp = join(options.dataRoot, ".duckdb-tmp");
    mkdirSync(tmp, { recursive: true });
    const config = duckdb.create_config();
    duckdb.set_config(config, "threads", String(options.threads));
    duckdb.set_config(config, "memory_limit", options.memoryLimit);
    duckdb.set_config(config, "temp_directory", tmp);
    // Nothing is downloaded: parquet is built in, and there is no internet.
    duckdb.set_config(config, "autoinstall_known_extensions", "false");
    duckdb.set_config(config, "autoload_known_extensions", "false");
    const db = await duckdb.open(":memory:", config);
    const setup = await duckdb.connect(db);
    registerArrowScan(setup);
    duckdb.disconnect_sync(setup);
    return new DuckEngine(db, options.maxQueries);
  }

  /**
   * A connection outside the pool, for work that must run beside a query holding a pooled one (a
   * stream cannot share its connection with other statements). Close it when done.
   */
  async extraConnection(): Promise<DuckConnection> {
    if (this.#closed) throw new Error("the query engine is closed");
    return new DuckConnection(await duckdb.connect(this.#db));
  }

  /** Connections in use right now (a cancelled query gives its connection back). */
  get busy(): number {
    return this.#busy;
  }

  /** Calls waiting for a connection. */
  get queued(): number {
    return this.#waiters.length;
  }

  /** Runs `fn` on a pooled connection; waits for one when `maxQueries` are running. */
  async withConnection<T>(fn: (c: DuckConnection) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const c = await this.acquire(signal);
    try {
      return await fn(c);
    } finally {
      await this.release(c);
    }
  }

  /** A small query's rows as plain objects (for statistics, counts and checks; never for data). */
  async rows(sql: string): Promise<Record<string, unknown>[]> {
    return this.withConnection((c) => c.rows(sql));
  }

  close(): void {
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) w.reject(new Error("the query engine is closed"));
    for (const c of this.#idle.splice(0)) c.close();
    duckdb.close_sync(this.#db);
  }

  /** A connection for work that outlives one call (a streamed response); give it back with release. */
  async acquire(signal?: AbortSignal): Promise<DuckConnection> {
    if (this.#closed) throw new Error("the query engine is closed");
    signal?.throwIfAborted();
    const idle = this.#idle.pop();
    if (idle) {
      this.#busy++;
      return idle;
    }
    if (this.#open < this.#max) {
      this.#open++;
      this.#busy++;
      try {
        return new DuckConnection(await duckdb.connect(this.#db));
      } catch (err) {
        this.#open--;
        this.#busy--;
        throw err;
      }
    }
    return new Promise<DuckConnection>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: (c) => {
          signal?.removeEventListener("abort", onAbort);
          this.#busy++;
          resolve(c);
        },
        reject,
      };
      const onAbort = () => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(signal!.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  async release(c: DuckConnection): Promise<void> {
    this.#busy--;
    await c.reset();
    if (this.#closed) {
      c.close();
      return;
    }
    const next = this.#waiters.shift();
    if (next) next.resolve(c);
    else this.#idle.push(c);
  }
}
