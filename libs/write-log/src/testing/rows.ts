import { create } from "@bufbuild/protobuf";
import { ColumnarRowsSchema, type ColumnarRows } from "@granary/proto/types";
import type { LogBatch, LogEntry, WriteLog } from "../write-log.js";

/** `n` rows of (entity_id int64, event_time timestamp, `features` double columns), ids from `first`. */
export function sampleRows(n: number, first = 0, features = 2): ColumnarRows {
  const ids = Array.from({ length: n }, (_, i) => BigInt(first + i));
  return create(ColumnarRowsSchema, {
    rowCount: n,
    columns: [
      { name: "entity_id", data: { values: { case: "int64s", value: { values: ids } } } },
      { name: "event_time", data: { values: { case: "timestamps", value: { values: ids.map((id) => 1_700_000_000_000_000n + id) } } } },
      ...Array.from({ length: features }, (_, f) => ({
        name: `f${f}`,
        data: { values: { case: "doubles" as const, value: { values: ids.map((id) => Number(id) * 0.5 + f) } } },
      })),
    ],
  });
}

/** An upsert batch of `n` rows for project/group v1. */
export function sampleBatch(project: string, group: string, n = 3, extra: Partial<LogBatch> = {}): LogBatch {
  return { project, group, version: 1, kind: "upsert", origin: "write-rows", rows: sampleRows(n), ...extra };
}

/** Polls `check` every 20 ms until it holds; fails after `timeoutMs` with `what`. */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Follows `log` from `from` into an array, for tests. */
export function collect(log: WriteLog, from = 0n, options: Parameters<WriteLog["follow"]>[2] = {}) {
  const entries: LogEntry[] = [];
  const dead: { sequence: bigint; reason: string }[] = [];
  const follower = log.follow(
    from,
    (e) => {
      entries.push(e);
    },
    { ...options, onDeadLetter: (sequence, reason) => void dead.push({ sequence, reason }) },
  );
  return { entries, dead, follower };
}
