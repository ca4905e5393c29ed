import { createHash, randomUUID } from "node:crypto";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { InvalidArgumentError, ResourceExhaustedError } from "@granary/errors";
import { ColumnarRowsSchema, type ColumnData, type ColumnarRows } from "@granary/proto/types";
import type { LogSubjects } from "./subjects.js";
import type { BatchKind, BatchOrigin, LogBatch, LogEntry, RawLogMessage } from "./write-log.js";

/**
 * The headers of a log message. The payload is a `granary.types.v1.ColumnarRows` protobuf
 * (docs/decisions/0005-write-log.md says why not Arrow IPC); `Granary-Format` names it, so a
 * second format can be added without guessing.
 */
export const HEADER = {
  msgId: "Nats-Msg-Id",
  format: "Granary-Format",
  kind: "Granary-Kind",
  origin: "Granary-Origin",
  groupVersion: "Granary-Group-Version",
  deadReason: "Granary-Dead-Reason",
  deadSequence: "Granary-Dead-Sequence",
  deadMsgId: "Granary-Dead-Msg-Id",
  deadSubject: "Granary-Dead-Subject",
} as const;

export const FORMAT = "granary.types.v1.ColumnarRows";
const KINDS: readonly BatchKind[] = ["upsert", "delete"];
const ORIGINS: readonly BatchOrigin[] = ["write-rows", "insert", "external"];
/** NATS header values are one line; reasons are cut to keep dead letters small. */
const MAX_REASON = 1000;

/** A message that cannot be a log entry, with the reason a dead letter records. */
export class PoisonMessageError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "PoisonMessageError";
  }
}

/** A batch as a message ready to publish; INVALID_ARGUMENT naming the field when it cannot be one. */
export function encodeBatch(batch: LogBatch, subjects: LogSubjects): RawLogMessage & { msgId: string } {
  const subject = subjects.subject(batch);
  if (!KINDS.includes(batch.kind)) throw new InvalidArgumentError(`kind ${JSON.stringify(batch.kind)} must be one of ${KINDS.join(", ")}`, { field: "kind" });
  if (!ORIGINS.includes(batch.origin))
    throw new InvalidArgumentError(`origin ${JSON.stringify(batch.origin)} must be one of ${ORIGINS.join(", ")}`, { field: "origin" });
  if (batch.rows.rowCount < 1) throw new InvalidArgumentError("a batch needs at least one row", { field: "rows.row_count" });
  const msgId = batch.msgId ?? randomUUID();
  if (msgId.length === 0 || /[\r\n]/.test(msgId)) throw new InvalidArgumentError("msgId must be one non-empty line", { field: "msg_id" });
  return {
    subject,
    msgId,
    headers: {
      [HEADER.msgId]: msgId,
      [HEADER.format]: FORMAT,
      [HEADER.kind]: batch.kind,
      [HEADER.origin]: batch.origin,
      [HEADER.groupVersion]: String(batch.version),
    },
    data: toBinary(ColumnarRowsSchema, batch.rows),
  };
}

/**
 * A stored message as an entry, or PoisonMessageError with the reason. This checks what the log
 * promises (a group subject, known headers, a well-formed ColumnarRows whose columns all have
 * `row_count` values); whether the columns fit the group is the consumer's check, as for WriteRows.
 */
export function decodeMessage(raw: RawLogMessage & { sequence: bigint }, subjects: LogSubjects): LogEntry {
  const address = subjects.parse(raw.subject);
  if (address === undefined)
    throw new PoisonMessageError(`subject "${raw.subject}" is not ${subjects.prefix}.<project>.<group>.v<version> with catalogue names`);
  // Header names are case-insensitive (as in HTTP); a producer's client may send them lower-cased.
  const lower = new Map(Object.entries(raw.headers).map(([k, v]) => [k.toLowerCase(), v]));
  const h = Object.fromEntries(Object.values(HEADER).map((name) => [name, lower.get(name.toLowerCase())])) as Record<string, string | undefined>;
  if (h[HEADER.format] !== FORMAT) throw new PoisonMessageError(`header ${HEADER.format} is ${describe(h[HEADER.format])}, expected "${FORMAT}"`);
  const kind = h[HEADER.kind] as BatchKind | undefined;
  if (kind === undefined || !KINDS.includes(kind))
    throw new PoisonMessageError(`header ${HEADER.kind} is ${describe(kind)}, expected one of ${KINDS.join(", ")}`);
  const origin = (h[HEADER.origin] ?? "external") as BatchOrigin;
  if (!ORIGINS.includes(origin)) throw new PoisonMessageError(`header ${HEADER.origin} is ${describe(origin)}, expected one of ${ORIGINS.join(", ")}`);
  const version = h[HEADER.groupVersion];
  if (version !== undefined && version !== String(address.version)) {
    throw new PoisonMessageError(`header ${HEADER.groupVersion} is ${describe(version)} but the subject says version ${address.version}`);
  }
  let rows: ColumnarRows;
  try {
    rows = fromBinary(ColumnarRowsSchema, raw.data);
  } catch (err) {
    throw new PoisonMessageError(`payload is not a ${FORMAT} protobuf: ${err instanceof Error ? err.message : String(err)}`);
  }
  checkShape(rows);
  return { sequence: raw.sequence, ...address, kind, origin, msgId: h[HEADER.msgId] ?? "", rows, raw };
}

/**
 * The dead letter of a message: its headers and payload kept, the reason added, its own msgId
 * derived from where it came from and why, so every replica dead-lettering the same poison
 * message files it once.
 */
export function deadLetterMessage(message: RawLogMessage, reason: string, subjects: LogSubjects): RawLogMessage & { msgId: string } {
  const line = oneLine(reason);
  const origin = message.sequence !== undefined ? `seq:${message.sequence}` : `id:${message.headers[HEADER.msgId] ?? ""}`;
  const digest = createHash("sha256").update(line).update("\0").update(message.data).digest("hex").slice(0, 16);
  const msgId = `dead:${origin}:${digest}`;
  const headers: Record<string, string> = { ...message.headers, [HEADER.msgId]: msgId, [HEADER.deadReason]: line, [HEADER.deadSubject]: message.subject };
  const originalId = message.headers[HEADER.msgId];
  if (originalId !== undefined) headers[HEADER.deadMsgId] = originalId;
  if (message.sequence !== undefined) headers[HEADER.deadSequence] = String(message.sequence);
  return { subject: subjects.deadSubject(message.subject), headers, data: message.data, msgId };
}

/**
 * RESOURCE_EXHAUSTED unless the message fits `max` bytes as NATS counts max_payload: the payload and
 * the header block (`NATS/1.0`, one `Key: value` line each, a blank line).
 */
export function checkMessageSize(message: RawLogMessage, max: number): void {
  let bytes = message.data.byteLength + 12;
  for (const [k, v] of Object.entries(message.headers)) bytes += Buffer.byteLength(k) + Buffer.byteLength(v) + 4;
  if (bytes > max) {
    throw new ResourceExhaustedError(`a batch of ${bytes} bytes exceeds the write log's limit of ${max} bytes per message; send fewer rows per batch`);
  }
}

function checkShape(rows: ColumnarRows): void {
  if (rows.rowCount < 1) throw new PoisonMessageError("payload has no rows");
  const names = new Set<string>();
  for (const column of rows.columns) {
    if (column.name === "") throw new PoisonMessageError("payload has a column without a name");
    if (names.has(column.name)) throw new PoisonMessageError(`payload has column "${column.name}" twice`);
    names.add(column.name);
    const problem = lengthProblem(column.data, rows.rowCount);
    if (problem !== undefined) throw new PoisonMessageError(`payload column "${column.name}" ${problem}`);
  }
}

function lengthProblem(data: ColumnData | undefined, rows: number): string | undefined {
  const values = data?.values;
  if (values === undefined || values.case === undefined) {
    return data?.nullIndexes.length === rows ? undefined : "has no values";
  }
  if (values.case === "lists") {
    const { offsets } = values.value;
    return offsets.length === rows + 1 ? undefined : `has ${Math.max(0, offsets.length - 1)} lists for ${rows} rows`;
  }
  const n = values.value.values.length;
  return n === rows ? undefined : `has ${n} values for ${rows} rows`;
}

function oneLine(text: string): string {
  const line = text.replace(/[\r\n]+/g, " ").trim();
  return line.length > MAX_REASON ? `${line.slice(0, MAX_REASON)}…` : line;
}

function describe(value: string | undefined): string {
  return value === undefined ? "missing" : JSON.stringify(value.slice(0, 80));
}
