import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { DeadLetter } from "@granary/proto/online";
import type { CommandContext } from "../context.js";
import { formatBytes, formatTable, toJson } from "../output.js";

/** The most ListDeadLetters returns in one call. */
export const MAX_DEAD_LETTERS = 1000;

export interface DeadLettersOptions {
  /** At most this many, the latest (the service's default, 100, when not given). */
  readonly limit?: number;
}

/**
 * `granary dead-letters <project> [--limit N]`: write-log messages of a project that a consumer
 * refused (undecodable, unknown group, rows breaking the schema), oldest first, with why.
 */
export async function deadLettersCommand(ctx: CommandContext, project: string, options: DeadLettersOptions): Promise<void> {
  const { online, unary } = ctx.granary.services;
  const res = await online.listDeadLetters({ project, limit: options.limit ?? 0 }, unary(ctx.signal));
  const letters = res.deadLetters;
  if (ctx.json) {
    ctx.output.out(toJson(letters.map(deadLetterJson)));
    return;
  }
  if (letters.length === 0) {
    ctx.output.out(`no dead letters in project ${project}`);
    return;
  }
  ctx.output.out(formatDeadLetters(letters));
  const limit = options.limit ?? 100;
  if (letters.length >= limit && limit < MAX_DEAD_LETTERS) ctx.output.err(`the latest ${letters.length} shown; --limit (up to ${MAX_DEAD_LETTERS}) shows more`);
}

/** Dead letters as a table: when filed, the subject, the log sequence it was refused at, its payload size, why. */
export function formatDeadLetters(letters: readonly DeadLetter[]): string {
  const rows = letters.map((d) => [
    d.fileTime ? isoSeconds(timestampDate(d.fileTime)) : "",
    d.subject,
    d.originalSequence > 0n ? String(d.originalSequence) : "-",
    formatBytes(d.data.byteLength),
    d.reason,
  ]);
  return formatTable(["filed", "subject", "original seq", "payload", "reason"], rows);
}

/** One dead letter under --json: the payload as base64 (a granary.types.v1.ColumnarRows when it decodes). */
export function deadLetterJson(d: DeadLetter) {
  return {
    sequence: d.sequence,
    file_time: d.fileTime ? timestampDate(d.fileTime) : null,
    subject: d.subject,
    reason: d.reason,
    original_sequence: d.originalSequence > 0n ? d.originalSequence : null,
    payload_bytes: d.data.byteLength,
    headers: d.headers,
    data: d.data,
  };
}

function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, "Z");
}
