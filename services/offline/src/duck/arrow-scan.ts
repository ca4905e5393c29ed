import duckdb from "@duckdb/node-bindings";
import type * as arrow from "apache-arrow";

/** The table function DuckDB reads registered Arrow batches through. */
export const ARROW_SCAN = "granary_arrow_scan";

const CHUNK = 2048;

/** Batches to scan, with the DuckDB type of each output column and how to fill it. */
export interface ScanSource {
  readonly names: readonly string[];
  readonly types: readonly (() => duckdb.LogicalType)[];
  /** Fills rows [start, start+n) of `batch` into the output chunk's vectors. */
  readonly fill: (out: duckdb.DataChunk, batch: arrow.RecordBatch, start: number, n: number) => void;
  readonly batches: readonly arrow.RecordBatch[];
}

const sources = new Map<string, ScanSource>();
let counter = 0;

export function registerScan(source: ScanSource): string {
  const key = `s${++counter}`;
  sources.set(key, source);
  return key;
}

export function unregisterScan(key: string): void {
  sources.delete(key);
}

interface ScanState {
  batch: number;
  row: number;
}

/**
 * Registers `granary_arrow_scan(key)` in a database: a single-threaded scan over the batches
 * registered under `key`, 2,048 rows per chunk. Registration is database-wide.
 */
export function registerArrowScan(connection: duckdb.Connection): void {
  const fn = duckdb.create_table_function();
  duckdb.table_function_set_name(fn, ARROW_SCAN);
  duckdb.table_function_add_parameter(fn, duckdb.create_logical_type(duckdb.Type.VARCHAR));
  duckdb.table_function_set_bind(fn, (info) => {
    const key = duckdb.get_varchar(duckdb.bind_get_parameter(info, 0));
    const source = sources.get(key);
    if (!source) {
      duckdb.bind_set_error(info, `no Arrow batches registered as ${key}`);
      return;
    }
    source.names.forEach((name, i) => duckdb.bind_add_result_column(info, name, source.types[i]!()));
    duckdb.bind_set_cardinality(
      info,
      source.batches.reduce((n, b) => n + b.numRows, 0),
      true,
    );
    duckdb.bind_set_bind_data(info, source);
  });
  duckdb.table_function_set_init(fn, (info) => {
    duckdb.init_set_init_data(info, { batch: 0, row: 0 } satisfies ScanState);
    duckdb.init_set_max_threads(info, 1);
  });
  duckdb.table_function_set_function(fn, (info, out) => {
    const source = duckdb.function_get_bind_data(info) as ScanSource;
    const state = duckdb.function_get_init_data(info) as ScanState;
    try {
      let batch = source.batches[state.batch];
      while (batch && state.row >= batch.numRows) {
        state.batch++;
        state.row = 0;
        batch = source.batches[state.batch];
      }
      if (!batch) {
        duckdb.data_chunk_set_size(out, 0);
        return;
      }
      const n = Math.min(CHUNK, batch.numRows - state.row);
      source.fill(out, batch, state.row, n);
      duckdb.data_chunk_set_size(out, n);
      state.row += n;
    } catch (err) {
      duckdb.function_set_error(info, err instanceof Error ? err.message : String(err));
    }
  });
  duckdb.register_table_function(connection, fn);
}
