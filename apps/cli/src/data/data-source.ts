import type * as arrow from "apache-arrow";
import type { TypedColumn } from "./record-batch.js";

/** A file being read into a feature group, batch by batch. */
export interface DataSource {
  /** The group columns the file provides, in batch order. */
  readonly columns: readonly TypedColumn[];
  /** What the progress bar counts towards (bytes of a CSV file, rows of a Parquet file). */
  readonly total: number;
  /** How far reading has got, in the unit of `total`. */
  position(): number;
  batches(): AsyncGenerator<arrow.RecordBatch>;
  close(): Promise<void>;
}
