export { arrowTypeOf } from "./arrow-types.js";
export { arrowPayloads, tableFromChunks } from "./ipc-chunks.js";
export { buildColumn, valueReader } from "./arrow-values.js";
export { IpcMessageWriter, ipcBytes } from "./ipc-writer.js";
export { duckTypeSql } from "./duck-types.js";
export { arrowFits, checkArrowSchema, describeDataType, type ArrowSchemaRules, type CheckedField } from "./schema-check.js";
export { MIN_EVENT_MICROS, checkEventTime, eventTimeBounds, timeMicrosReader, type EventTimeBounds } from "./event-times.js";
