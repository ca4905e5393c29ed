import type { CompactionStats } from "@granary/proto/metadata";
import type { CommandContext } from "../context.js";
import { formatBytes, toJson } from "../output.js";
import { parseRef } from "../refs.js";

/**
 * `granary compact <group[:version]>`: compacts a feature group's offline files now (the service
 * also does it in the background): small files merged, rows past its offline retention removed.
 * Reads see the same rows before and after.
 */
export async function compactCommand(ctx: CommandContext, groupText: string): Promise<void> {
  const ref = parseRef(groupText, "feature group");
  const project = await ctx.project();
  const group = await project.getFeatureGroup(ref.name, ref.version);
  const res = await group.compact({ signal: ctx.signal });
  if (ctx.json) {
    ctx.output.out(toJson({ commit_id: res.commitId, seconds: res.seconds, ...statsJson(res.stats) }));
    return;
  }
  ctx.output.out(
    res.commitId === 0n
      ? `${group.name} v${group.version}: nothing to compact (no commit since the last compaction is ready)`
      : describeCompaction(`${group.name} v${group.version}`, res.commitId, res.stats, res.seconds),
  );
}

/** One line: which commit, files and rows before → after, bytes, what went, how long. */
export function describeCompaction(name: string, commitId: bigint, stats: CompactionStats | undefined, seconds: number): string {
  const s = statsJson(stats);
  const removed = [s.rows_erased > 0n ? `${s.rows_erased} erased` : "", s.rows_expired > 0n ? `${s.rows_expired} past retention` : ""].filter(Boolean);
  return (
    `${name}: compaction commit ${commitId}: ${s.files_before} → ${s.files_after} files, ${s.rows_before} → ${s.rows_after} rows` +
    `${removed.length > 0 ? ` (${removed.join(", ")})` : ""}, ${formatBytes(Number(s.bytes_before))} → ${formatBytes(Number(s.bytes_after))}, ${seconds.toFixed(2)} s`
  );
}

function statsJson(stats: CompactionStats | undefined) {
  return {
    files_before: stats?.filesBefore ?? 0n,
    files_after: stats?.filesAfter ?? 0n,
    rows_before: stats?.rowsBefore ?? 0n,
    rows_after: stats?.rowsAfter ?? 0n,
    bytes_before: stats?.bytesBefore ?? 0n,
    bytes_after: stats?.bytesAfter ?? 0n,
    rows_erased: stats?.rowsErased ?? 0n,
    rows_expired: stats?.rowsExpired ?? 0n,
  };
}
