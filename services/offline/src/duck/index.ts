// DuckDB and the bridge between it and Arrow: the one door the feature folders use.
export { DuckEngine } from "./duckdb-engine.js";
export type { DuckConnection } from "./duck-connection.js";
export { ArrowStager, stageColumn } from "./arrow-to-duck.js";
export { stageArrowInput, type StagedInput } from "./stage-input.js";
export { queryBatches, rowsForBytes } from "./query-batches.js";
export { streamOn, streamQuery, type BatchTransform, type StreamLabels } from "./arrow-response.js";
export { chunkResponse } from "./ipc-frames.js";
export { fileList, quoteIdent, quoteString, timestampLiteral, valueLiteral } from "./sql-text.js";
export { filterSql, type FilterColumn } from "./filter-sql.js";
export { tempName } from "./temp-names.js";
export { duckTypeSql } from "@granary/arrow";
