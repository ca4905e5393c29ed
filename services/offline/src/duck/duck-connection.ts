import duckdb from "@duckdb/node-bindings";
import { DuckDBMaterializedResult } from "@duckdb/node-api";
import { SpanStatusCode, trace, type Span } from "@opentelemetry/api";
import { inSpan } from "@granary/telemetry";
import { refuseNul, translateDuckError } from "./duck-errors.js";

// DuckDB spans: a query's kind and what it returned, never its text (filters and spines put
// values from requests into the SQL).
const SCOPE = "granary.offline";
const queryAttributes = (operation: string) => ({ "db.system.name": "duckdb", "db.operation.name": operation });

const END_MARKER = "__granary_end";

/** A streamed query: its column names and logical types, then its chunks as DuckDB makes them. */
export interface QueryStream {
  readonly names: readonly string[];
  readonly types: readonly duckdb.LogicalType[];
  readonly chunks: AsyncIterable<duckdb.DataChunk>;
}

/**
 * One DuckDB connection of the pool. Streams are pulled chunk by chunk; an aborted signal
 * interrupts the running query, and giving the connection back closes whatever stream is left.
 * What DuckDB throws leaves here typed where the cause is the engine's environment (memory, disk,
 * an interrupt): see translateDuckError.
 */
export class DuckConnection {
  readonly raw: duckdb.Connection;
  #streamOpen = false;

  constructor(raw: duckdb.Connection) {
    this.raw = raw;
  }

  /** Runs a statement (DDL, COPY, INSERT) to completion. */
  async run(sql: string, signal?: AbortSignal): Promise<void> {
    refuseNul(sql);
    await inSpan(SCOPE, "duckdb.query", queryAttributes("run"), async () => {
      await this.#withInterrupt(signal, () => duckdb.query(this.raw, sql));
    });
  }

  async rows(sql: string, signal?: AbortSignal): Promise<Record<string, unknown>[]> {
    refuseNul(sql);
    return inSpan(SCOPE, "duckdb.query", queryAttributes("rows"), async (span) => {
      const rows = await resultRows(await this.#withInterrupt(signal, () => duckdb.query(this.raw, sql)));
      span.setAttribute("db.response.returned_rows", rows.length);
      return rows;
    });
  }

  /**
   * Executes `sql` as a streaming query. The next chunk is requested while the caller works on
   * the current one, so DuckDB computes while JavaScript converts.
   *
   * The bindings end a streamed result that failed midway (out of memory, a cast error) exactly
   * as one that is complete. So the query carries an end marker: a last row, added with UNION ALL
   * (DuckDB keeps the order of its parts and of an ordered query), flagged in a last column. The
   * marker row is cut from the final chunk; a stream that ends without it failed.
   */
  async stream(sql: string, signal?: AbortSignal): Promise<QueryStream> {
    signal?.throwIfAborted();
    refuseNul(sql);
    // Open from execution to the last chunk: a streamed query runs while its rows are read.
    const span = trace.getTracer(SCOPE).startSpan("duckdb.query", { attributes: queryAttributes("stream") });
    try {
      return await this.#stream(sql, signal, span);
    } catch (err) {
      endSpan(span, 0, err);
      throw err;
    }
  }

  async #stream(sql: string, signal: AbortSignal | undefined, span: Span): Promise<QueryStream> {
    const marked = `SELECT *, false AS ${END_MARKER} FROM (${sql}) UNION ALL BY NAME SELECT true AS ${END_MARKER}`;
    const statement = await duckdb.prepare(this.raw, marked).catch((err: unknown) => {
      throw translateDuckError(err);
    });
    let result: duckdb.Result;
    try {
      result = await this.#withInterrupt(signal, () => duckdb.execute_prepared_streaming(statement));
    } finally {
      duckdb.destroy_prepare_sync(statement);
    }
    const count = duckdb.column_count(result) - 1;
    const names: string[] = [];
    const types: duckdb.LogicalType[] = [];
    for (let i = 0; i < count; i++) {
      names.push(duckdb.column_name(result, i));
      types.push(duckdb.column_logical_type(result, i));
    }
    this.#streamOpen = true;
    const self = this;
    async function* chunks(): AsyncGenerator<duckdb.DataChunk> {
      const onAbort = () => duckdb.interrupt(self.raw);
      signal?.addEventListener("abort", onAbort, { once: true });
      let pending: Promise<duckdb.DataChunk | null> | undefined = duckdb.fetch_chunk(result);
      let ended = false;
      let returned = 0;
      let failure: unknown;
      try {
        while (pending !== undefined) {
          const chunk = await pending;
          pending = undefined;
          signal?.throwIfAborted();
          const n = chunk ? duckdb.data_chunk_get_size(chunk) : 0;
          if (!chunk || n === 0) break;
          const flags = duckdb.vector_get_data(duckdb.data_chunk_get_vector(chunk, count), n);
          if (flags[n - 1]) {
            ended = true;
            for (let i = 0; i < n - 1; i++) if (flags[i]) throw new Error("the end marker of a streamed query came early");
            duckdb.data_chunk_set_size(chunk, n - 1);
            returned += n - 1;
            if (n > 1) yield chunk;
            break;
          }
          pending = duckdb.fetch_chunk(result);
          returned += n;
          yield chunk;
        }
        if (!ended) {
          signal?.throwIfAborted();
          throw new Error("DuckDB ended a streamed query before its end marker: the query failed (out of memory or disk space, or an error in the data)");
        }
      } catch (err) {
        failure = err;
        signal?.throwIfAborted();
        throw translateDuckError(err);
      } finally {
        endSpan(span, returned, failure);
        signal?.removeEventListener("abort", onAbort);
        if (pending) {
          duckdb.interrupt(self.raw);
          await pending.catch(() => null);
        }
      }
    }
    return { names, types, chunks: chunks() };
  }

  /** Cancels the query running on this connection, if any. */
  interrupt(): void {
    duckdb.interrupt(this.raw);
  }

  /** An appender on a temporary table of this connection, or on a shared table (`temp` false). */
  appender(table: string, temp = true): duckdb.Appender {
    return duckdb.appender_create_ext(this.raw, temp ? "temp" : null, "main", table);
  }

  /** Called when the connection goes back to the pool: ends any stream its holder left open. */
  async reset(): Promise<void> {
    if (!this.#streamOpen) return;
    this.#streamOpen = false;
    // A new statement closes the connection's open streaming result and frees its memory.
    await duckdb.query(this.raw, "SELECT 1").catch(() => undefined);
  }

  close(): void {
    duckdb.disconnect_sync(this.raw);
  }

  async #withInterrupt<T>(signal: AbortSignal | undefined, run: () => Promise<T>): Promise<T> {
    signal?.throwIfAborted();
    const onAbort = () => duckdb.interrupt(this.raw);
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      return await run();
    } catch (err) {
      // A query the call's deadline or cancellation interrupted reports that, not DuckDB's words.
      signal?.throwIfAborted();
      throw translateDuckError(err);
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  }
}

/** Rows of a materialised result as plain JS values (bigint for BIGINT, number for DOUBLE…). */
async function resultRows(result: duckdb.Result): Promise<Record<string, unknown>[]> {
  return (await new DuckDBMaterializedResult(result).getRowObjectsJS()) as Record<string, unknown>[];
}

function endSpan(span: Span, rows: number, err: unknown): void {
  span.setAttribute("db.response.returned_rows", rows);
  if (err !== undefined) {
    span.setAttribute("error.type", err instanceof Error ? err.constructor.name : "Error");
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
  }
  span.end();
}
