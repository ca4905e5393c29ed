import type { FeatureGroup, Filter } from "@granary/proto/metadata";
import type { TimeRange } from "@granary/proto/types";
import type { Logger } from "@granary/telemetry";
import { streamQuery, type DuckEngine } from "../duck/index.js";
import type { CommitLayout } from "../store/commit-layout.js";
import type { CommitEntry, CommitLog } from "../store/commit-log.js";
import { changesSql, commitsAsOf, readSql, type AsOf } from "./read-group.js";

export interface ReadDeps {
  readonly commits: CommitLog;
  readonly layout: CommitLayout;
  readonly engine: DuckEngine;
  readonly messageBytes: number;
  readonly logger: Logger;
}

/** Read: a group's rows as the commits made by `asOf` left them, as Arrow IPC messages. */
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
  const sql = readSql(await filesOf(deps, project, group, visible), group, visible, columns, filter, limit);
  yield* streamQuery(deps.engine, sql, deps.messageBytes, signal);
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
  yield* streamQuery(deps.engine, sql, deps.messageBytes, signal);
}

function filesOf(deps: ReadDeps, project: string, group: FeatureGroup, list: readonly CommitEntry[]) {
  return deps.layout.files.filesOf({ project, name: group.name, version: group.version }, list, deps.logger);
}
