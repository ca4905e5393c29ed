export { arrowTypeOf } from "./arrow-types.js";
export { arrowPayloads, tableFromChunks } from "./ipc-chunks.js";
export { buildColumn, valueReader } from "./arrow-values.js";
export { IpcMessageWriter, ipcBytes } from "./ipc-writer.js";
export { duckTypeSql } from "./duck-types.js";
