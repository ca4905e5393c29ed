import type { ServiceImpl } from "@connectrpc/connect";
import type { CatalogueCache } from "@granary/catalogue-cache";
import { NotFoundError } from "@granary/errors";
import { requireCatalogue } from "./catalogue-ready.js";
import type { FeatureGroup } from "@granary/proto/metadata";
import type { InsertHeader, OfflineService } from "@granary/proto/offline";
import type { FeatureGroupRef } from "@granary/proto/types";
import { streamQuery } from "./duck/index.js";
import { timestampMicros } from "./timestamps.js";
import { changesSql, checkColumns, commitsAsOf, readSql, type AsOf } from "./read/read-group.js";
import type { ProjectStreams } from "./project-streams.js";
import { headedStream } from "./request-stream.js";
import type { CommitEntry, CommitLog } from "./store/commit-log.js";
import { deleteRows } from "./write/delete-rows.js";
import { insertRows, type InsertDeps } from "./write/insert-rows.js";
import type { TrainingHandlers } from "./training/training-handlers.js";
import type { ConsistencyHandlers } from "./consistency/consistency-handlers.js";

export interface OfflineHandlerDeps extends InsertDeps {
  readonly catalogue: CatalogueCache;
  readonly commits: CommitLog;
  readonly messageBytes: number;
  readonly training: TrainingHandlers;
  readonly consistency: ConsistencyHandlers;
  /** Shared with the training handlers: one count per project across every stream kind. */
  readonly streams: ProjectStreams;
}

/** Handlers of granary.offline.v1.OfflineService: each translates the request and calls one function. */
export function createOfflineHandlers(deps: OfflineHandlerDeps): Partial<ServiceImpl<typeof OfflineService>> {
  const { catalogue, commits, engine, layout, messageBytes, logger, streams } = deps;
  const filesOf = (project: string, group: FeatureGroup, list: readonly CommitEntry[]) =>
    layout.files.filesOf({ project, name: group.name, version: group.version }, list, logger);
  const groupFor = (project: string, ref: FeatureGroupRef | undefined): FeatureGroup => {
    requireCatalogue(catalogue);
    const group = catalogue.featureGroup(project, ref?.name ?? "", ref?.version ?? 0);
    if (!group) throw new NotFoundError(`feature group "${ref?.name}"${ref?.version ? ` version ${ref.version}` : ""} does not exist in project "${project}"`);
    return group;
  };
  const chunk = (ipc: Uint8Array) => ({ chunk: { ipc } });

  return {
    async insert(requests, ctx) {
      const { header, chunks } = await headedStream<InsertHeader>(requests, "header", "chunk", "Insert");
      return insertRows(deps, header.project, groupFor(header.project, header.featureGroup), chunks, ctx.signal);
    },

    async deleteRows(requests, ctx) {
      const { header, chunks } = await headedStream<InsertHeader>(requests, "header", "chunk", "DeleteRows");
      return deleteRows(deps, header.project, groupFor(header.project, header.featureGroup), chunks, ctx.signal);
    },

    async *read(req, ctx) {
      const group = groupFor(req.project, req.featureGroup);
      const columns = checkColumns(group, req.columns);
      const asOf: AsOf =
        req.asOf.case === "asOfCommit"
          ? { kind: "commit", id: req.asOf.value }
          : req.asOf.case === "asOfTime"
            ? { kind: "time", micros: timestampMicros(req.asOf.value) }
            : { kind: "now" };
      const release = streams.acquire(req.project, ctx.signal);
      try {
        const visible = commitsAsOf(commits.commits(req.project, group.name, group.version), asOf);
        const sql = readSql(await filesOf(req.project, group, visible), group, visible, columns, req.filter, req.limit);
        for await (const ipc of streamQuery(engine, sql, messageBytes, ctx.signal)) yield chunk(ipc);
      } finally {
        release();
      }
    },

    async *readChanges(req, ctx) {
      const group = groupFor(req.project, req.featureGroup);
      const columns = checkColumns(group, req.columns);
      const release = streams.acquire(req.project, ctx.signal);
      try {
        const all = commits.commits(req.project, group.name, group.version);
        const sql = changesSql(await filesOf(req.project, group, all), group, all, req.window!, columns);
        for await (const ipc of streamQuery(engine, sql, messageBytes, ctx.signal)) yield chunk(ipc);
      } finally {
        release();
      }
    },

    ...deps.training,
    ...deps.consistency,
  };
}
