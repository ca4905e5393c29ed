export type {
  AppendResult,
  BatchKind,
  BatchOrigin,
  ConsumedBatch,
  ConsumerOptions,
  DeadLetter,
  FetchOptions,
  FollowHandler,
  FollowOptions,
  Follower,
  LogBatch,
  LogConsumer,
  LogEntry,
  RawLogMessage,
  WriteLog,
} from "./write-log.js";
export { createWriteLog, writeLogConfig, type WriteLogConfig } from "./create-write-log.js";
export { JetStreamWriteLog, type JetStreamWriteLogOptions } from "./jetstream-write-log.js";
export { LocalWriteLog, type LocalWriteLogOptions } from "./local-write-log.js";
export type { LocalDurability } from "./local-stream.js";
export { FORMAT, HEADER, encodeBatch } from "./log-message.js";
export { LogSubjects, type GroupAddress } from "./subjects.js";
export { splitRows, sliceRows } from "./split-rows.js";
