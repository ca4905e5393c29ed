import { HEADER } from "./log-message.js";
import type { LogSubjects } from "./subjects.js";
import type { DeadLetter, RawLogMessage } from "./write-log.js";

const DEAD_HEADERS: readonly string[] = [HEADER.msgId, HEADER.deadMsgId, HEADER.deadReason, HEADER.deadSequence, HEADER.deadSubject];

/** A stored message of the dead-letter stream as the DeadLetter that listDeadLetters returns: the refused message's own headers, and why. */
export function toDeadLetter(message: RawLogMessage & { sequence: bigint }, time: Date, subjects: LogSubjects): DeadLetter {
  const h = message.headers;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (!DEAD_HEADERS.includes(k)) headers[k] = v;
  const msgId = h[HEADER.deadMsgId];
  if (msgId !== undefined) headers[HEADER.msgId] = msgId;
  const original = h[HEADER.deadSequence];
  return {
    sequence: message.sequence,
    project: subjects.deadProject(message.subject),
    subject: h[HEADER.deadSubject] ?? "",
    reason: h[HEADER.deadReason] ?? "",
    originalSequence: original !== undefined && /^[0-9]+$/.test(original) ? BigInt(original) : undefined,
    time,
    headers,
    data: message.data,
  };
}
