import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import type { Pool } from "pg";
import { InvalidArgumentError } from "@granary/errors";
import { readableProjects } from "@granary/auth";
import { ChangeKind, ChangeSchema, LineageDirection, type Change, type MetadataService } from "@granary/proto/metadata";
import { principalKey } from "@granary/server";
import { checkIdentifier, TRANSFORMATION_FUNCTIONS, validateFeatureGroup } from "@granary/catalogue-rules";
import * as apiKeys from "./access/api-keys.js";
import * as audit from "./store/audit-store.js";
import type { ChangeFeed } from "./store/change-feed.js";
import * as commits from "./store/commits-store.js";
import * as groups from "./store/feature-groups-store.js";
import * as views from "./store/feature-views-store.js";
import * as logging from "./store/feature-logging-store.js";
import * as lineage from "./store/lineage-store.js";
import * as monitoring from "./store/monitoring-reports-store.js";
import * as projects from "./store/projects-store.js";
import * as recordedModels from "./store/recorded-models-store.js";
import { search } from "./store/search-store.js";
import * as statistics from "./store/statistics-store.js";
import * as datasets from "./store/training-datasets-store.js";
import * as shares from "./store/shares-store.js";
import * as reports from "./store/validation-reports-store.js";

export interface MetadataHandlerDeps {
  readonly pool: Pool;
  readonly changes: ChangeFeed;
  /** Aborted when the service starts draining: open watches end so clients resume elsewhere. */
  readonly drainSignal: AbortSignal;
  /** Told of a key or share this replica changed, so its caches drop it at once (see access/metadata-access.ts). */
  readonly onAccessChange?: (change: Change) => void;
}

/**
 * Handlers of granary.metadata.v1.MetadataService, every RPC listed here (a missing one fails the
 * build): translate requests into store calls. Names and simple ranges are checked by
 * protovalidate before these run; definitions by the domain rules. Who may call the access RPCs
 * (keys, shares, audit: the trust boundary) is in @granary/auth's permission table.
 */
export function createMetadataHandlers({ pool, changes, drainSignal, onAccessChange = () => {} }: MetadataHandlerDeps): ServiceImpl<typeof MetadataService> {
  return {
    createProject: async (req) => ({ project: await projects.createProject(pool, req.name, req.description) }),
    getProject: async (req) => ({ project: await projects.getProject(pool, req.name) }),
    listProjects: async (req, ctx) => {
      const page = await projects.listProjects(pool, req.pageSize, req.pageToken, readableProjects(ctx.values.get(principalKey)));
      return { projects: page.items, nextPageToken: page.nextPageToken };
    },
    deleteProject: async (req) => {
      await projects.deleteProject(pool, req.name, req.etag);
      return {};
    },

    createFeatureGroup: async (req, ctx) => {
      // Whatever the caller sent: a data scientist may later write only the groups it created.
      const fg = { ...req.featureGroup!, createdBy: ctx.values.get(principalKey).name };
      validateFeatureGroup(fg);
      return groups.createFeatureGroup(pool, fg);
    },
    getFeatureGroup: async (req) => ({ featureGroup: await groups.getFeatureGroup(pool, req.project, req.name, req.version) }),
    listFeatureGroups: async (req) => {
      const page = await groups.listFeatureGroups(pool, req.project, req);
      return { featureGroups: page.items, nextPageToken: page.nextPageToken };
    },
    updateFeatureGroup: async (req) => {
      const fg = req.featureGroup!;
      checkRef(fg.project, fg.name, fg.version, "feature_group");
      return { featureGroup: await groups.updateFeatureGroup(pool, fg, req.updateMask?.paths ?? []) };
    },
    appendFeatures: async (req) => ({
      featureGroup: await groups.appendFeatures(pool, req.project, req.name, req.version, req.columns, req.etag),
    }),
    deleteFeatureGroup: async (req) => {
      await groups.deleteFeatureGroup(pool, req.project, req.name, req.version, req.etag);
      return {};
    },

    createFeatureView: async (req) => views.createFeatureView(pool, req.featureView!),
    getFeatureView: async (req) => ({ featureView: await views.getFeatureView(pool, req.project, req.name, req.version) }),
    listFeatureViews: async (req) => {
      const page = await views.listFeatureViews(pool, req.project, req);
      return { featureViews: page.items, nextPageToken: page.nextPageToken };
    },
    updateFeatureView: async (req) => {
      const view = req.featureView!;
      checkRef(view.project, view.name, view.version, "feature_view");
      return { featureView: await views.updateFeatureView(pool, view, req.updateMask?.paths ?? []) };
    },
    deleteFeatureView: async (req) => {
      await views.deleteFeatureView(pool, req.project, req.name, req.version, req.etag);
      return {};
    },

    listTransformationFunctions: () => ({ functions: [...TRANSFORMATION_FUNCTIONS] }),

    createTrainingDataset: async (req) => {
      const td = req.trainingDataset!;
      checkRef(td.project, td.featureView?.name ?? "", td.featureView?.version ?? 0, "training_dataset.feature_view");
      return { trainingDataset: await datasets.createTrainingDataset(pool, td) };
    },
    getTrainingDataset: async (req) => ({ trainingDataset: await datasets.getTrainingDataset(pool, req.project, req.featureView!, req.version) }),
    listTrainingDatasets: async (req) => {
      const page = await datasets.listTrainingDatasets(pool, req.project, req.featureView!, req.pageSize, req.pageToken);
      return { trainingDatasets: page.items, nextPageToken: page.nextPageToken };
    },
    updateTrainingDataset: async (req) => {
      const td = req.trainingDataset!;
      checkRef(td.project, td.featureView?.name ?? "", td.featureView?.version ?? 0, "training_dataset.feature_view");
      return { trainingDataset: await datasets.updateTrainingDataset(pool, td, req.updateMask?.paths ?? []) };
    },
    deleteTrainingDataset: async (req) => {
      await datasets.deleteTrainingDataset(pool, req.project, req.featureView!, req.version, req.etag);
      return {};
    },

    createCommit: async (req) => {
      const commit = req.commit!;
      checkRef(commit.project, commit.featureGroup?.name ?? "", commit.featureGroup?.version ?? 0, "commit.feature_group");
      return { commit: await commits.createCommit(pool, commit) };
    },
    getCommit: async (req) => ({ commit: await commits.getCommit(pool, req.project, req.featureGroup!, req.id) }),
    listCommits: async (req) => {
      const page = await commits.listCommits(pool, req.project, req.featureGroup!, {
        pageSize: req.pageSize,
        pageToken: req.pageToken,
        window: req.ingestionTimeRange,
      });
      return { commits: page.items, nextPageToken: page.nextPageToken };
    },
    updateCommit: async (req) => {
      const commit = req.commit!;
      checkRef(commit.project, commit.featureGroup?.name ?? "", commit.featureGroup?.version ?? 0, "commit.feature_group");
      return { commit: await commits.updateCommit(pool, commit, req.updateMask?.paths ?? []) };
    },

    putStatistics: async (req) => {
      checkIdentifier(req.statistics!.project, "statistics.project", "project");
      return { statistics: await statistics.putStatistics(pool, req.statistics!) };
    },
    getStatistics: async (req) => ({ statistics: await statistics.getStatistics(pool, req.project, req.subject!) }),

    createValidationReport: async (req) => {
      const report = req.report!;
      checkRef(report.project, report.featureGroup?.name ?? "", report.featureGroup?.version ?? 0, "report.feature_group");
      return { report: await reports.createValidationReport(pool, report) };
    },
    listValidationReports: async (req) => {
      const page = await reports.listValidationReports(pool, req.project, req.featureGroup!, req.pageSize, req.pageToken);
      return { reports: page.items, nextPageToken: page.nextPageToken };
    },

    createLineageEdge: async (req) => {
      lineage.validateEdge(req.edge!);
      await lineage.createEdge(pool, req.project, req.edge!);
      return { edge: req.edge };
    },
    releaseModelVersion: async (req) => {
      await lineage.releaseModelVersion(pool, req.project, req.model, req.version);
      return {};
    },
    recordModel: async (req) => {
      await recordedModels.recordModel(pool, req.project, req.model, req.registryId);
      return {};
    },
    forgetModel: async (req) => {
      await recordedModels.forgetModel(pool, req.project, req.model, req.registryId);
      return {};
    },
    listRecordedModels: async (req) => {
      const page = await recordedModels.listRecordedModels(pool, req.pageSize, req.pageToken);
      return { models: page.items, nextPageToken: page.nextPageToken };
    },
    getLineage: async (req) => {
      const direction = req.direction === LineageDirection.UNSPECIFIED ? LineageDirection.BOTH : req.direction;
      return lineage.getLineage(pool, req.project, req.node!, direction, req.depth);
    },

    search: async (req) => search(pool, req.project, req),

    createApiKey: (req, ctx) => apiKeys.createApiKey(pool, ctx.values.get(principalKey), req),
    listApiKeys: async (req, ctx) => {
      const page = await apiKeys.listApiKeys(pool, ctx.values.get(principalKey), req);
      return { apiKeys: page.items, nextPageToken: page.nextPageToken };
    },
    revokeApiKey: async (req, ctx) => {
      const apiKey = await apiKeys.revokeApiKey(pool, ctx.values.get(principalKey), req.id);
      onAccessChange(create(ChangeSchema, { kind: ChangeKind.UPDATED, resource: { case: "apiKey", value: apiKey } }));
      return { apiKey };
    },
    authenticateApiKey: async (req, ctx) => ({ apiKey: await apiKeys.authenticateApiKey(pool, ctx.values.get(principalKey), req.secret) }),

    shareFeatureGroup: async (req, ctx) => {
      const share = await shares.shareFeatureGroup(pool, req.project, req.featureGroup, req.withProject, ctx.values.get(principalKey).name);
      onAccessChange(create(ChangeSchema, { kind: ChangeKind.CREATED, project: req.project, resource: { case: "share", value: share } }));
      return { share };
    },
    unshareFeatureGroup: async (req) => {
      await shares.unshareFeatureGroup(pool, req.project, req.featureGroup, req.withProject);
      const share = { project: req.project, featureGroup: req.featureGroup, withProject: req.withProject };
      onAccessChange(create(ChangeSchema, { kind: ChangeKind.DELETED, project: req.project, resource: { case: "share", value: share } }));
      return {};
    },
    listFeatureGroupShares: (req) => shares.listFeatureGroupShares(pool, req.project),

    listAuditEvents: async (req) => {
      const page = await audit.listAuditEvents(pool, req.project, req.pageSize, req.pageToken);
      return { events: page.items, nextPageToken: page.nextPageToken };
    },
    enableFeatureLogging: async (req, ctx) => {
      const { featureView, loggingFeatureGroup } = await logging.enableFeatureLogging(
        pool,
        req.project,
        req.featureView!.name,
        req.featureView!.version,
        req.logging,
        ctx.values.get(principalKey).name,
      );
      return { featureView, loggingFeatureGroup };
    },
    createMonitoringReport: async (req, ctx) => {
      const report = req.report!;
      checkRef(report.project, report.featureView?.name ?? "", report.featureView?.version ?? 0, "report.feature_view");
      // The offline service names the user who asked for the report; a report sent without one is the sender's.
      report.createdBy ||= ctx.values.get(principalKey).name;
      return { report: await monitoring.createMonitoringReport(pool, report) };
    },
    listMonitoringReports: async (req) => {
      const page = await monitoring.listMonitoringReports(pool, req.project, req.featureView!, req.pageSize, req.pageToken);
      return { reports: page.items, nextPageToken: page.nextPageToken };
    },

    recordAuditEvents: async (req) => {
      await audit.insertAuditEvents(pool, req.events);
      return {};
    },

    async *watchChanges(req, ctx) {
      const signal = AbortSignal.any([ctx.signal, drainSignal]);
      for await (const item of changes.watch(req.project, req.fromRevision, signal)) {
        yield "caughtUp" in item ? { headRevision: item.headRevision } : { change: item };
      }
    },
  };
}

function checkRef(project: string, name: string, version: number, field: string): void {
  checkIdentifier(project, `${field.split(".")[0]}.project`, "project");
  checkIdentifier(name, `${field}.name`, "name");
  if (version < 1) throw new InvalidArgumentError(`${field}.version must be 1 or more`, { field: `${field}.version` });
}
