import type { ServiceImpl } from "@connectrpc/connect";
import type { Pool } from "pg";
import { InvalidArgumentError } from "@granary/errors";
import type { RegistryService } from "@granary/proto/registry";
import type { Logger } from "@granary/telemetry";
import { collectQuietly } from "./artifacts/collect-quietly.js";
import { downloadArtifact } from "./artifacts/download-artifact.js";
import { uploadArtifact } from "./artifacts/upload-artifact.js";
import { checkIdentifier, validateDescription, validateTags, validateVersionDefinition } from "./domain/model-rules.js";
import * as aliases from "./store/aliases-store.js";
import * as artifacts from "./store/artifacts-store.js";
import type { BlobStore } from "./store/blob-store.js";
import type { FeatureLineage, TrainedOn } from "./upstream/feature-lineage.js";
import type { ModelRecords } from "./upstream/model-records.js";
import * as models from "./store/models-store.js";
import * as versions from "./store/versions-store.js";

export interface RegistryHandlerDeps {
  readonly pool: Pool;
  readonly blobs: BlobStore;
  readonly lineage: FeatureLineage;
  readonly records: ModelRecords;
  readonly maxArtifactBytes: number;
  readonly logger: Logger;
}

/**
 * Handlers of granary.registry.v1.RegistryService, every RPC listed (a missing one fails the
 * build): translate requests into store and upstream calls. Names and ranges of top-level fields
 * are checked by protovalidate before these run; nested messages (a ModelVersion, a Model) by the
 * domain rules.
 */
export function createRegistryHandlers(deps: RegistryHandlerDeps): ServiceImpl<typeof RegistryService> {
  const { pool, lineage, records } = deps;
  // A new model is recorded in the metadata service before its row commits, so DeleteProject never
  // misses it; when recording fails, the model is not created.
  const recordNew = (project: string, model: string, signal: AbortSignal) => (registryId: string) => records.record({ project, model, registryId }, signal);
  return {
    createModel: async (req, ctx) => {
      validateDescription(req.description, "description");
      validateTags(req.tags, "tags");
      return { model: await models.createModel(pool, req, recordNew(req.project, req.name, ctx.signal)) };
    },
    getModel: async (req) => ({ model: await models.getModel(pool, req.project, req.name) }),
    listModels: async (req) => {
      const page = await models.listModels(pool, req.project, req);
      return { models: page.items, nextPageToken: page.nextPageToken };
    },
    updateModel: async (req) => {
      const model = req.model!;
      checkIdentifier(model.project, "model.project", "project");
      checkIdentifier(model.name, "model.name", "model");
      validateDescription(model.description, "model.description");
      validateTags(model.tags, "model.tags");
      return { model: await models.updateModel(pool, model, req.updateMask?.paths ?? []) };
    },
    deleteModel: async (req, ctx) => {
      const registryId = await models.deleteModel(pool, req.project, req.name, req.etag);
      // After the commit: a record without its model only delays deleting the project, until the
      // janitor's reconciliation forgets it; a model without a record would let it go.
      try {
        await records.forget({ project: req.project, model: req.name, registryId }, ctx.signal);
      } catch (err) {
        deps.logger.warn({ err, project: req.project, model: req.name }, "deleted a model but could not forget its metadata record; the janitor will");
      }
      return {};
    },

    createModelVersion: async (req, ctx) => {
      const mv = req.modelVersion!;
      if (mv.version !== 0) {
        throw new InvalidArgumentError("model_version.version: version numbers are assigned by the registry; leave it 0", { field: "model_version.version" });
      }
      validateVersionDefinition(mv);
      const trainedOn: TrainedOn | undefined = mv.featureView && {
        project: mv.project,
        featureView: mv.featureView,
        trainingDatasetVersion: mv.trainingDatasetVersion,
      };
      if (trainedOn) await lineage.checkTrainedOn(trainedOn, ctx.signal);
      const created = await versions.createVersion(pool, mv, recordNew(mv.project, mv.model, ctx.signal), async (version) => {
        if (trainedOn) await lineage.recordModelVersion(trainedOn, mv.model, version, ctx.signal);
      });
      return { modelVersion: created };
    },
    finalizeModelVersion: async (req) => ({ modelVersion: await versions.finalizeVersion(pool, req.project, req.model, req.version) }),
    getModelVersion: async (req) => {
      if (req.selector.case === undefined) throw new InvalidArgumentError("give a version or an alias", { field: "selector" });
      return { modelVersion: await versions.getVersion(pool, req.project, req.model, req.selector, req.includeIncomplete) };
    },
    listModelVersions: async (req) => {
      const page = await versions.listVersions(pool, req.project, req.model, req);
      return { modelVersions: page.items, nextPageToken: page.nextPageToken };
    },
    updateModelVersion: async (req) => {
      const mv = req.modelVersion!;
      checkIdentifier(mv.project, "model_version.project", "project");
      checkIdentifier(mv.model, "model_version.model", "model");
      if (mv.version < 1) throw new InvalidArgumentError("model_version.version: name the version to update (1 or more)", { field: "model_version.version" });
      return { modelVersion: await versions.updateVersion(pool, mv, req.updateMask?.paths ?? []) };
    },
    deleteModelVersion: async (req, ctx) => {
      // Only a version trained on a recorded training dataset has lineage edges to release (and
      // only such a version needed the metadata service when it was created).
      const digests = await versions.deleteVersion(pool, req.project, req.model, req.version, req.etag, async (deleted) => {
        if (deleted.featureView && deleted.trainingDatasetVersion > 0) await lineage.releaseModelVersion(req.project, req.model, req.version, ctx.signal);
      });
      for (const digest of digests) await collectQuietly(deps, digest);
      return {};
    },

    uploadArtifact: async (requests, ctx) => ({ artifact: await uploadArtifact(deps, requests, ctx.signal) }),
    async *downloadArtifact(req) {
      yield* downloadArtifact(deps, req);
    },
    listArtifacts: async (req) => ({ artifacts: await artifacts.listArtifacts(pool, req.project, req.model, req.version) }),

    setAlias: async (req) => ({ model: await aliases.setAlias(pool, req.project, req.model, req.alias, req.version) }),
    deleteAlias: async (req) => ({ model: await aliases.deleteAlias(pool, req.project, req.model, req.alias) }),
  };
}
