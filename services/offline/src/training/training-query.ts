import { create } from "@bufbuild/protobuf";
import { InvalidArgumentError } from "@granary/errors";
import {
  type ColumnRole,
  CommitWatermarkSchema,
  type CommitWatermark,
  type FeatureGroup,
  type FeatureView,
  type Filter,
  type SplitSpec,
} from "@granary/proto/metadata";
import { ColumnSchema, ScalarType, type Column, type DataType } from "@granary/proto/types";
import { type DuckConnection, stageArrowInput, tempName } from "../duck/index.js";
import type { Logger } from "@granary/telemetry";
import { filesOf, type CheckedFiles, type FilesOf } from "../store/commit-files.js";
import type { CommitLayout } from "../store/commit-layout.js";
import { pruneSpineRange } from "../store/partitions.js";
import { groupKey, type CommitEntry, type CommitLog } from "../store/commit-log.js";
import { requestParameters } from "./on-demand.js";
import { pitSql, type PitQuery, type SpineSource } from "./pit-sql.js";
import type { ViewPlan } from "./view-plan.js";

export type SpineInput =
  | { readonly kind: "range"; readonly startMicros: bigint | undefined; readonly endMicros: bigint | undefined }
  | { readonly kind: "streamed"; readonly chunks: AsyncIterable<Uint8Array> }
  | { readonly kind: "latest" };

export interface TrainingQuery {
  readonly spine: SpineInput;
  readonly roles: ReadonlySet<ColumnRole>;
  readonly includeEventTimes: boolean;
  readonly extraFilter?: Filter | undefined;
  readonly split?: SplitSpec | undefined;
  /** False: every spine row is returned, the view's filters and inner joins select none (as an online lookup). */
  readonly selectRows?: boolean;
}

/** The commits a query reads: every source group's, as of one moment (its watermarks). */
export interface Snapshot {
  readonly commitsOf: (group: FeatureGroup) => readonly CommitEntry[];
  readonly watermarks: CommitWatermark[];
}

/** Freezes the commit lists of the view's groups (or cuts them at recorded watermarks). */
export function snapshotOf(project: string, plan: ViewPlan, commits: CommitLog, watermarks?: readonly CommitWatermark[]): Snapshot {
  const lists = new Map<string, readonly CommitEntry[]>();
  const marks: CommitWatermark[] = [];
  for (const node of plan.nodes) {
    const g = node.group;
    const key = groupKey(project, g.name, g.version);
    if (lists.has(key)) continue;
    let list = commits.commits(project, g.name, g.version);
    if (watermarks) {
      const mark = watermarks.find((w) => w.featureGroup?.name === g.name && w.featureGroup.version === g.version);
      list = list.filter((c) => c.id <= (mark?.commitId ?? 0n));
    }
    lists.set(key, list);
    marks.push(create(CommitWatermarkSchema, { featureGroup: { name: g.name, version: g.version }, commitId: list[list.length - 1]?.id ?? 0n }));
  }
  return { commitsOf: (g) => lists.get(groupKey(project, g.name, g.version)) ?? [], watermarks: marks };
}

/** The checked files of every commit a snapshot reads (DATA_LOSS when a record fails; see CommitFiles). */
export async function snapshotFiles(layout: CommitLayout, project: string, plan: ViewPlan, snapshot: Snapshot, logger: Logger): Promise<FilesOf> {
  const checked = new Map<string, CheckedFiles>();
  for (const { group: g } of plan.nodes) {
    const key = groupKey(project, g.name, g.version);
    if (!checked.has(key)) checked.set(key, await layout.files.check({ project, name: g.name, version: g.version }, snapshot.commitsOf(g), logger));
  }
  return filesOf(...checked.values());
}

/** The column a caller's spine carries its event time in: the root group's, or `event_time`. */
export function spineTimeColumn(plan: ViewPlan): string {
  return plan.nodes[0]!.group.eventTime || "event_time";
}

/**
 * The point-in-time SQL of a query. A streamed spine is first staged (stream order kept) into a
 * temporary table with the columns a caller may send: serving keys, the root group's key and
 * event time, request parameters, and values of the root group's columns.
 */
export async function buildPitQuery(
  connection: DuckConnection,
  plan: ViewPlan,
  snapshot: Snapshot,
  files: FilesOf,
  query: TrainingQuery,
  tables: string[],
  signal?: AbortSignal,
): Promise<PitQuery & { readonly spineTable?: string }> {
  const view = plan.view;
  const now = BigInt(Date.now()) * 1000n;
  let spine: SpineSource;
  if (query.spine.kind === "streamed") {
    const allowed = spineColumns(plan);
    const time = spineTimeColumn(plan);
    const needsTime = plan.nodes.some((n) => n.group.eventTime);
    const sp = tempName("spine");
    tables.push(sp);
    const staged = await stageArrowInput(connection, sp, query.spine.chunks, { allowed, required: needsTime ? [time] : [], what: "the spine" }, signal);
    if (staged.rows === 0) throw new InvalidArgumentError("the spine has no rows");
    const columns = new Map(staged.columns.map((c) => [c.name, allowed.get(c.name)!.type!] as const));
    spine = { kind: "table", table: sp, columns, time: columns.has(time) ? time : undefined, nowMicros: now };
  } else if (query.spine.kind === "range") {
    spine = { kind: "range", startMicros: query.spine.startMicros, endMicros: query.spine.endMicros };
  } else {
    spine = { kind: "latest", nowMicros: now };
  }
  // A time-range spine reads only the root group's commits and partitions that can hold its rows.
  const read = pruneSpineRange(
    plan.nodes.map((n) => n.group),
    snapshot.commitsOf,
    files,
    spine,
  );
  const pit = pitSql(plan, spine, read.commitsOf, read.filesOf, {
    roles: query.roles,
    includeEventTimes: query.includeEventTimes,
    requestParameters: requestParameters(view),
    extraFilter: query.extraFilter,
    split: query.split,
    selectRows: query.selectRows,
  });
  return spine.kind === "table" ? { ...pit, spineTable: spine.table } : pit;
}

function spineColumns(plan: ViewPlan): Map<string, Column> {
  const out = new Map<string, Column>();
  const add = (name: string, type: DataType) => {
    if (!out.has(name)) out.set(name, create(ColumnSchema, { name, type }));
  };
  const rootGroup = plan.nodes[0]!.group;
  const column = (g: FeatureGroup, name: string) => g.columns.find((c) => c.name === name)!.type!;
  for (const key of plan.view.servingKeys) add(key.name, key.type!);
  for (const k of rootGroup.primaryKey) add(k, column(rootGroup, k));
  add(
    spineTimeColumn(plan),
    rootGroup.eventTime ? column(rootGroup, rootGroup.eventTime) : ({ scalar: ScalarType.TIMESTAMP, list: false, dimension: 0 } as DataType),
  );
  for (const [name, type] of requestParameters(plan.view)) add(name, type);
  for (const { output } of plan.nodes[0]!.outputs) add(output.name, output.type!);
  return out;
}
