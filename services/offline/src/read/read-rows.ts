import { metrics } from "@opentelemetry/api";
import type { FeatureGroup, Filter } from "@granary/proto/metadata";
import type { TimeRange } from "@granary/proto/types";
import type { Logger } from "@granary/telemetry";
import { streamQuery, type DuckEngine } from "../duck/index.js";
import type { CommitLayout } from "../store/commit-layout.js";
import type { CommitEntry, CommitLog } from "../store/commit-log.js";
import { filterPredicate, pruneRead } from "../store/partitions.js";
import { changesSql, commitsAsOf, readSql, type AsOf } from "./read-group.js";

/** Data files a Read scans, and those its filter let it skip by their partition values. */
export const READ_FILES_METRIC = "granary.offline.read_files";
export const READ_FILES_PRUNED_METRIC = "granary.offline.read_files_pruned";

export interface ReadDeps {
  readonly commits: CommitLog;
  readonly layout: CommitLayout;
  readonly engine: DuckEngine;
  readonly messageBytes: number;
  readonly logger: Logger;
}

/**
 * Read: a group's rows as the commits made by `asOf` left them, as Arrow IPC messages. With a
 * filter on partition columns, files whose partition values cannot match are not scanned (see
 * pruneRead); the counts go to READ_FILES_METRIC and READ_FILES_PRUNED_METRIC.
 */
export async function* streamRows(
  deps: ReadDeps,
  project: string,
  group: FeatureGroup,
  asOf: AsOf,
  columns: readonly string[],
  filter: Filter | undefined,
  limit: bigint,
  signal: AbortSignal,
): AsyncGenerator<Uint8Array> {
  const visible = commitsAsOf(deps.commits.commits(project, group.name, group.version), asOf);
  const read = pruneRead(visible, await filesOf(deps, project, group, visible), group, filterPredicate(group, filter));
  const sql = readSql(read.filesOf, group, read.commits, columns, filter, limit);
  const attributes = { project, feature_group: group.name };
  const meter = metrics.getMeter("granary.offline");
  meter.createCounter(READ_FILES_METRIC, { description: "Data files Read scans", unit: "{file}" }).add(read.scannedFiles, attributes);
  meter
    .createCounter(READ_FILES_PRUNED_METRIC, { description: "Data files a Read skipped by their partition values", unit: "{file}" })
    .add(read.insertFiles - read.scannedFiles, attributes);
  if (read.scannedFiles < read.insertFiles) {
    deps.logger.debug({ project, group: group.name, version: group.version, files: read.insertFiles, scanned: read.scannedFiles }, "read: partitions pruned");
  }
  yield* streamQuery(deps.engine, sql, deps.messageBytes, signal, { project, source: group.name, operation: "read" });
}

/** ReadChanges: the rows of the commits ingested in `window`, as Arrow IPC messages. */
export async function* streamChanges(
  deps: ReadDeps,
  project: string,
  group: FeatureGroup,
  window: TimeRange,
  columns: readonly string[],
  signal: AbortSignal,
): AsyncGenerator<Uint8Array> {
  const all = deps.commits.commits(project, group.name, group.version);
  const sql = changesSql(await filesOf(deps, project, group, all), group, all, window, columns);
  yield* streamQuery(deps.engine, sql, deps.messageBytes, signal, { project, source: group.name, operation: "read_changes" });
}

function filesOf(deps: ReadDeps, project: string, group: FeatureGroup, list: readonly CommitEntry[]) {
  return deps.layout.files.filesOf({ project, name: group.name, version: group.version }, list, deps.logger);
}
