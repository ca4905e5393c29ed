import type { ServiceImpl } from "@connectrpc/connect";
import { InvalidArgumentError, NotFoundError } from "@granary/errors";
import { ColumnRole, type FeatureGroup, type FeatureView } from "@granary/proto/metadata";
import type { BatchDataQuery, InsertHeader, OfflineService, ReadRequest, Spine, TrainingDataQuery } from "@granary/proto/offline";
import type { FeatureGroupRef, FeatureViewRef } from "@granary/proto/types";
import { principalKey } from "@granary/server";
import { requireCatalogue } from "./catalogue-ready.js";
import { checkConsistency, type ConsistencyDeps } from "./consistency/check-consistency.js";
import { chunkResponse } from "./duck/index.js";
import type { ProjectStreams } from "./project-streams.js";
import { checkColumns, type AsOf } from "./read/read-group.js";
import { streamChanges, streamRows } from "./read/read-rows.js";
import { headedStream } from "./request-stream.js";
import { storeGroupStatistics } from "./stats/group-statistics.js";
import { timestampMicros } from "./timestamps.js";
import { requireView, streamTrainingData, type TransformSource } from "./training/training-data.js";
import { batchTransformSource, createTrainingDataset, readTrainingDataset } from "./training/training-datasets.js";
import type { SpineInput, TrainingQuery } from "./training/training-query.js";
import { deleteRows, type DeleteDeps } from "./write/delete-rows.js";
import { logFeatures } from "./logging/log-features.js";
import { computeDrift } from "./monitoring/compute-drift.js";
import type { Compactor } from "./lifecycle/compactor.js";
import { insertRows, type InsertDeps } from "./write/insert-rows.js";

export interface OfflineHandlerDeps extends DeleteDeps, ConsistencyDeps {
  /** Compactions: Compact calls, erasures, the background pass (see lifecycle/). */
  readonly compactor: Compactor;
  /** One count per project across every kind of stream (reads, training and batch data, datasets, checks). */
  readonly streams: ProjectStreams;
}

/**
 * Handlers of granary.offline.v1.OfflineService, every RPC by name: each translates the request
 * and calls one function of its feature folder. A full ServiceImpl, so an RPC added to the
 * contract fails the build until it is listed here.
 */
export function createOfflineHandlers(deps: OfflineHandlerDeps): ServiceImpl<typeof OfflineService> {
  const { catalogue, streams } = deps;
  const groupFor = (project: string, ref: FeatureGroupRef | undefined): FeatureGroup => {
    requireCatalogue(catalogue);
    const group = catalogue.featureGroup(project, ref?.name ?? "", ref?.version ?? 0);
    if (!group) throw new NotFoundError(`feature group "${ref?.name}"${ref?.version ? ` version ${ref.version}` : ""} does not exist in project "${project}"`);
    return group;
  };
  const viewFor = (project: string, ref: FeatureViewRef | undefined): FeatureView => {
    requireCatalogue(catalogue);
    return requireView(deps, project, ref?.name ?? "", ref?.version ?? 0);
  };
  /** A response stream holding one of the project's stream slots until it ends (see ProjectStreams). */
  async function* held<T>(project: string, signal: AbortSignal, responses: AsyncIterable<T>): AsyncGenerator<T> {
    const release = streams.acquire(project, signal);
    try {
      yield* responses;
    } finally {
      release();
    }
  }
  const chunked = (project: string, signal: AbortSignal, ipc: AsyncIterable<Uint8Array>) => held(project, signal, arrowChunks(ipc));

  return {
    async insert(requests, ctx) {
      const { header, chunks } = await headedStream<InsertHeader>(requests, "header", "chunk", "Insert");
      if (header.erase) throw new InvalidArgumentError("header.erase: only DeleteRows erases; an insert never does", { field: "header.erase" });
      return insertRows(deps, header.project, groupFor(header.project, header.featureGroup), chunks, ctx.signal);
    },

    async deleteRows(requests, ctx) {
      const { header, chunks } = await headedStream<InsertHeader>(requests, "header", "chunk", "DeleteRows");
      return deleteRows(deps, header.project, groupFor(header.project, header.featureGroup), chunks, { erase: header.erase }, ctx.signal);
    },

    async *read(req, ctx) {
      const group = groupFor(req.project, req.featureGroup);
      const columns = checkColumns(group, req.columns);
      yield* chunked(req.project, ctx.signal, streamRows(deps, req.project, group, asOfOf(req), columns, req.filter, req.limit, ctx.signal));
    },

    async *readChanges(req, ctx) {
      const group = groupFor(req.project, req.featureGroup);
      const columns = checkColumns(group, req.columns);
      yield* chunked(req.project, ctx.signal, streamChanges(deps, req.project, group, req.window!, columns, ctx.signal));
    },

    async *getTrainingData(requests, ctx) {
      const { header: q, chunks } = await headedStream<TrainingDataQuery>(requests, "query", "spineChunk", "GetTrainingData", { bidirectional: true });
      const view = viewFor(q.project, q.featureView);
      const source: TransformSource = q.untransformed ? { kind: "none" } : { kind: "training-split" };
      yield* chunked(q.project, ctx.signal, streamTrainingData(deps, q.project, view, trainingQuery(q, chunks), source, ctx.signal));
    },

    async createTrainingDataset(requests, ctx) {
      const { header: q, chunks } = await headedStream<TrainingDataQuery>(requests, "query", "spineChunk", "CreateTrainingDataset");
      const view = viewFor(q.project, q.featureView);
      const release = streams.acquire(q.project, ctx.signal);
      try {
        return { trainingDataset: await createTrainingDataset(deps, view, q, trainingQuery(q, chunks), ctx.signal) };
      } finally {
        release();
      }
    },

    async *readTrainingDataset(req, ctx) {
      const view = viewFor(req.project, req.featureView);
      yield* chunked(req.project, ctx.signal, readTrainingDataset(deps, req.project, view, req.version, req.split, req.untransformed, ctx.signal));
    },

    async *getBatchData(requests, ctx) {
      const { header: q, chunks } = await headedStream<BatchDataQuery>(requests, "query", "spineChunk", "GetBatchData", { bidirectional: true });
      const view = viewFor(q.project, q.featureView);
      const source = q.untransformed ? ({ kind: "none" } as const) : await batchTransformSource(deps, q.project, view, q.trainingDatasetVersion);
      yield* chunked(q.project, ctx.signal, streamTrainingData(deps, q.project, view, batchQuery(q, chunks), source, ctx.signal));
    },

    async computeStatistics(req, ctx) {
      const group = groupFor(req.project, req.featureGroup);
      return { statistics: await storeGroupStatistics(deps, req.project, group, deps.commits.commits(req.project, group.name, group.version), ctx.signal) };
    },

    async logFeatures(req, ctx) {
      return logFeatures(deps, viewFor(req.project, req.featureView), req, ctx.signal);
    },

    async computeDrift(req, ctx) {
      const view = viewFor(req.project, req.featureView);
      // Scans like a training read: one of the project's stream slots while it runs.
      const release = streams.acquire(req.project, ctx.signal);
      try {
        return { report: await computeDrift(deps, view, req, ctx.values.get(principalKey).name, ctx.signal) };
      } finally {
        release();
      }
    },

    async compact(req, ctx) {
      const group = groupFor(req.project, req.featureGroup);
      const result = await deps.compactor.compact(req.project, group, ctx.signal);
      return { commitId: result.commit?.id ?? 0n, stats: result.stats, seconds: result.seconds };
    },

    async *checkConsistency(req, ctx) {
      // One stream of the project's quota, like any training read it makes.
      yield* held(req.project, ctx.signal, checkConsistency(deps, req, ctx.signal));
    },
  };
}

async function* arrowChunks(ipc: AsyncIterable<Uint8Array>): AsyncGenerator<{ chunk: { ipc: Uint8Array } }> {
  for await (const bytes of ipc) yield chunkResponse(bytes);
}

function asOfOf(req: ReadRequest): AsOf {
  if (req.asOf.case === "asOfCommit") return { kind: "commit", id: req.asOf.value };
  if (req.asOf.case === "asOfTime") return { kind: "time", micros: timestampMicros(req.asOf.value) };
  return { kind: "now" };
}

function trainingQuery(q: TrainingDataQuery, chunks: AsyncIterable<Uint8Array>): TrainingQuery {
  const roles = new Set([ColumnRole.FEATURE, ColumnRole.LABEL, ...(q.includeTrainingHelpers ? [ColumnRole.TRAINING_HELPER] : [])]);
  return { spine: spineInput(q.spine, chunks), roles, includeEventTimes: q.includeEventTimes, extraFilter: q.extraFilter, split: q.split };
}

function batchQuery(q: BatchDataQuery, chunks: AsyncIterable<Uint8Array>): TrainingQuery {
  const roles = new Set([ColumnRole.FEATURE, ...(q.includeInferenceHelpers ? [ColumnRole.INFERENCE_HELPER] : [])]);
  const spine: SpineInput =
    q.selection.case === "latest" ? { kind: "latest" } : spineInput(q.selection.case === "spine" ? q.selection.value : undefined, chunks);
  return { spine, roles, includeEventTimes: false };
}

function spineInput(spine: Spine | undefined, chunks: AsyncIterable<Uint8Array>): SpineInput {
  if (spine?.kind.case === "streamed" && spine.kind.value) return { kind: "streamed", chunks };
  const range = spine?.kind.case === "eventTimeRange" ? spine.kind.value : undefined;
  return {
    kind: "range",
    startMicros: range?.start ? timestampMicros(range.start) : undefined,
    endMicros: range?.end ? timestampMicros(range.end) : undefined,
  };
}
