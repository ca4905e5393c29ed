import type { ServiceImpl } from "@connectrpc/connect";
import { FailedPreconditionError, NotFoundError } from "@granary/errors";
import { ColumnRole, type FeatureView } from "@granary/proto/metadata";
import type { BatchDataQuery, OfflineService, Spine, TrainingDataQuery } from "@granary/proto/offline";
import type { FeatureViewRef } from "@granary/proto/types";
import { headedStream } from "../request-stream.js";
import { timestampMicros } from "../timestamps.js";
import { storeGroupStatistics } from "../stats/group-statistics.js";
import { requireCatalogue } from "../catalogue-ready.js";
import type { TrainingDeps } from "./training-deps.js";
import { requireView, streamTrainingData, type TransformSource } from "./training-data.js";
import { createTrainingDataset, datasetOf, readTrainingDataset } from "./training-datasets.js";
import type { SpineInput, TrainingQuery } from "./training-query.js";

/** The training and batch data RPCs. */
export type TrainingHandlers = Pick<
  Partial<ServiceImpl<typeof OfflineService>>,
  "getTrainingData" | "createTrainingDataset" | "readTrainingDataset" | "getBatchData" | "computeStatistics"
>;

export type { TrainingDeps } from "./training-deps.js";

export function createTrainingHandlers(deps: TrainingDeps): TrainingHandlers {
  const viewFor = (project: string, ref: FeatureViewRef | undefined): FeatureView => {
    requireCatalogue(deps.catalogue);
    return requireView(deps, project, ref?.name ?? "", ref?.version ?? 0);
  };
  const chunk = (ipc: Uint8Array) => ({ chunk: { ipc } });

  return {
    async *getTrainingData(requests, ctx) {
      const { header: q, chunks } = await headedStream<TrainingDataQuery>(requests, "query", "spineChunk", "GetTrainingData", { bidirectional: true });
      const view = viewFor(q.project, q.featureView);
      const source: TransformSource = q.untransformed ? { kind: "none" } : { kind: "training-split" };
      const release = deps.streams.acquire(q.project, ctx.signal);
      try {
        for await (const ipc of streamTrainingData(deps, q.project, view, trainingQuery(q, chunks), source, ctx.signal)) yield chunk(ipc);
      } finally {
        release();
      }
    },

    async createTrainingDataset(requests, ctx) {
      const { header: q, chunks } = await headedStream<TrainingDataQuery>(requests, "query", "spineChunk", "CreateTrainingDataset");
      const view = viewFor(q.project, q.featureView);
      const release = deps.streams.acquire(q.project, ctx.signal);
      try {
        return { trainingDataset: await createTrainingDataset(deps, view, q, trainingQuery(q, chunks), ctx.signal) };
      } finally {
        release();
      }
    },

    async *readTrainingDataset(req, ctx) {
      const view = viewFor(req.project, req.featureView);
      const release = deps.streams.acquire(req.project, ctx.signal);
      try {
        for await (const ipc of readTrainingDataset(deps, req.project, view, req.version, req.split, req.untransformed, ctx.signal)) yield chunk(ipc);
      } finally {
        release();
      }
    },

    async *getBatchData(requests, ctx) {
      const { header: q, chunks } = await headedStream<BatchDataQuery>(requests, "query", "spineChunk", "GetBatchData", { bidirectional: true });
      const view = viewFor(q.project, q.featureView);
      let source: TransformSource = { kind: "none" };
      if (!q.untransformed && view.transformations.length > 0) {
        const dataset = await datasetOf(deps, q.project, view, q.trainingDatasetVersion).catch(() => undefined);
        if (!dataset) {
          throw new FailedPreconditionError(
            `feature view "${view.name}" version ${view.version} has model-dependent transformations but no training dataset${q.trainingDatasetVersion ? ` ${q.trainingDatasetVersion}` : ""} to take their statistics from; create one, or ask for untransformed values`,
          );
        }
        source = { kind: "statistics", statistics: dataset.statistics };
      }
      const roles = new Set([ColumnRole.FEATURE, ...(q.includeInferenceHelpers ? [ColumnRole.INFERENCE_HELPER] : [])]);
      const spine: SpineInput =
        q.selection.case === "latest" ? { kind: "latest" } : spineInput(q.selection.case === "spine" ? q.selection.value : undefined, chunks);
      const query: TrainingQuery = { spine, roles, includeEventTimes: false };
      const release = deps.streams.acquire(q.project, ctx.signal);
      try {
        for await (const ipc of streamTrainingData(deps, q.project, view, query, source, ctx.signal)) yield chunk(ipc);
      } finally {
        release();
      }
    },

    async computeStatistics(req, ctx) {
      requireCatalogue(deps.catalogue);
      const ref = req.featureGroup!;
      const group = deps.catalogue.featureGroup(req.project, ref.name, ref.version);
      if (!group)
        throw new NotFoundError(`feature group "${ref.name}"${ref.version ? ` version ${ref.version}` : ""} does not exist in project "${req.project}"`);
      return { statistics: await storeGroupStatistics(deps, req.project, group, deps.commits.commits(req.project, group.name, group.version), ctx.signal) };
    },
  };
}

function trainingQuery(q: TrainingDataQuery, chunks: AsyncIterable<Uint8Array>): TrainingQuery {
  const roles = new Set([ColumnRole.FEATURE, ColumnRole.LABEL, ...(q.includeTrainingHelpers ? [ColumnRole.TRAINING_HELPER] : [])]);
  return { spine: spineInput(q.spine, chunks), roles, includeEventTimes: q.includeEventTimes, extraFilter: q.extraFilter, split: q.split };
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
