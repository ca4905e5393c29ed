import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { StatisticsSchema, type FeatureGroup, type Statistics, type StatisticsSubjectSchema } from "@granary/proto/metadata";
import type { Logger } from "@granary/telemetry";
import type { DuckEngine } from "../duck/index.js";
import { groupSourceSql } from "../read/group-source.js";
import type { CommitLayout } from "../store/commit-layout.js";
import type { CommitEntry } from "../store/commit-log.js";
import type { MetadataWriter } from "../upstream/metadata-writer.js";
import { computeStatistics } from "./column-statistics.js";

export interface GroupStatisticsDeps {
  readonly engine: DuckEngine;
  readonly layout: CommitLayout;
  readonly metadata: Pick<MetadataWriter, "putStatistics">;
  readonly logger: Logger;
}

/**
 * Statistics of a group's rows as `commits` left them (every row a Read at the last of them
 * returns), as its statistics_config asks: its columns (all when none are listed), histograms,
 * Pearson correlations of the numeric columns.
 */
export async function groupStatistics(deps: GroupStatisticsDeps, project: string, group: FeatureGroup, commits: readonly CommitEntry[], signal?: AbortSignal) {
  const config = group.statisticsConfig;
  const names = config?.columns.length ? config.columns : group.columns.map((c) => c.name);
  const columns = names.flatMap((n) => group.columns.filter((c) => c.name === n)).map((c) => ({ name: c.name, type: c.type! }));
  const source = groupSourceSql(await deps.layout.files.filesOf({ project, name: group.name, version: group.version }, commits, deps.logger), group, commits);
  return deps.engine.withConnection(
    (c) => computeStatistics(c, source, columns, { histograms: config?.histograms ?? true, correlations: config?.correlations ?? false }, signal),
    signal,
  );
}

/**
 * Computes and stores a group's statistics as of its commits: under the last commit (so each
 * commit's statistics stay readable) and under the group (what GetStatistics of the group answers).
 */
export async function storeGroupStatistics(
  deps: GroupStatisticsDeps,
  project: string,
  group: FeatureGroup,
  commits: readonly CommitEntry[],
  signal?: AbortSignal,
): Promise<Statistics> {
  const stats = await groupStatistics(deps, project, group, commits, signal);
  const ref = { name: group.name, version: group.version };
  const last = commits[commits.length - 1];
  const of = (subject: MessageInitShape<typeof StatisticsSubjectSchema>) =>
    create(StatisticsSchema, { project, subject, columns: stats.columns, rowCount: stats.rowCount, correlations: stats.correlations });
  if (last) await deps.metadata.putStatistics(of({ kind: { case: "commit", value: { featureGroup: ref, commitId: last.id } } }));
  return deps.metadata.putStatistics(of({ kind: { case: "featureGroup", value: ref } }));
}
