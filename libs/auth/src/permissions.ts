import { Role } from "@granary/proto/metadata";

/**
 * What a call needs. Field paths name request fields in protobuf-es' camelCase; a oneof member is
 * reached by its case name (`message.header.project` reads the header of a streamed request, which
 * must be its first message).
 */
export type Permission =
  /** Only Granary's own services (the internal service key): records whose paths a service builds. */
  | { readonly kind: "service" }
  /** A cluster admin. */
  | { readonly kind: "admin" }
  /** Any identity; the handler narrows what it returns or does to the caller (keys, project lists). */
  | { readonly kind: "authenticated" }
  /**
   * A role in the project at `project`. With `group`, a read may also be allowed by a share of that
   * group with one of the caller's projects. With `emptyProject: "admin"`, an empty project means
   * every project, which only admins and services may ask for.
   */
  | {
      readonly kind: "project";
      readonly role: Role;
      readonly project: string;
      readonly group?: string;
      readonly emptyProject?: "admin";
    }
  /**
   * Writing a feature group: a data owner of its project, or a data scientist who created it
   * (creating one needs a data scientist, see "project").
   */
  | { readonly kind: "group-write"; readonly project: string; readonly group: string; readonly version: string };

const service = { kind: "service" } as const;
const admin = { kind: "admin" } as const;
const authenticated = { kind: "authenticated" } as const;
const read = (project = "project", group?: string): Permission => ({ kind: "project", role: Role.VIEWER, project, group });
const scientist = (project = "project"): Permission => ({ kind: "project", role: Role.DATA_SCIENTIST, project });
const owner = (project = "project"): Permission => ({ kind: "project", role: Role.DATA_OWNER, project });
const groupWrite = (project: string, ref: string): Permission => ({ kind: "group-write", project, group: `${ref}.name`, version: `${ref}.version` });

const MD = "granary.metadata.v1.MetadataService";
const ON = "granary.online.v1.OnlineService";
const OFF = "granary.offline.v1.OfflineService";
const REG = "granary.registry.v1.RegistryService";

/**
 * Every RPC of the four services and what it needs. A method missing here is refused with
 * PERMISSION_DENIED (deny by default); a test builds the method list from the service descriptors
 * and fails when one has no entry.
 */
export const PERMISSIONS: Readonly<Record<string, Permission>> = Object.freeze({
  [`${MD}/CreateProject`]: admin,
  [`${MD}/GetProject`]: read("name"),
  [`${MD}/ListProjects`]: authenticated,
  [`${MD}/DeleteProject`]: owner("name"),

  [`${MD}/CreateFeatureGroup`]: scientist("featureGroup.project"),
  [`${MD}/GetFeatureGroup`]: read("project", "name"),
  [`${MD}/ListFeatureGroups`]: read(),
  [`${MD}/UpdateFeatureGroup`]: { kind: "group-write", project: "featureGroup.project", group: "featureGroup.name", version: "featureGroup.version" },
  [`${MD}/AppendFeatures`]: { kind: "group-write", project: "project", group: "name", version: "version" },
  [`${MD}/DeleteFeatureGroup`]: { kind: "group-write", project: "project", group: "name", version: "version" },

  [`${MD}/CreateFeatureView`]: scientist("featureView.project"),
  [`${MD}/GetFeatureView`]: read(),
  [`${MD}/ListFeatureViews`]: read(),
  [`${MD}/UpdateFeatureView`]: scientist("featureView.project"),
  [`${MD}/DeleteFeatureView`]: scientist(),
  [`${MD}/ListTransformationFunctions`]: authenticated,

  // The record of a training dataset names its files: only the offline service writes it (users
  // create training datasets through OfflineService/CreateTrainingDataset).
  [`${MD}/CreateTrainingDataset`]: service,
  [`${MD}/GetTrainingDataset`]: read(),
  [`${MD}/ListTrainingDatasets`]: read(),
  [`${MD}/UpdateTrainingDataset`]: service,
  [`${MD}/DeleteTrainingDataset`]: scientist(),

  // Commits list Parquet files: only the offline service, which owns the files, records them.
  [`${MD}/CreateCommit`]: service,
  [`${MD}/GetCommit`]: read("project", "featureGroup.name"),
  [`${MD}/ListCommits`]: read("project", "featureGroup.name"),
  [`${MD}/UpdateCommit`]: service,

  [`${MD}/PutStatistics`]: service,
  [`${MD}/GetStatistics`]: read(),
  [`${MD}/CreateValidationReport`]: service,
  [`${MD}/ListValidationReports`]: read("project", "featureGroup.name"),
  // Creates the view's logging feature group (a scientist's act, or the offline service's on the
  // first LogFeatures) and sets its logging settings.
  [`${MD}/EnableFeatureLogging`]: scientist(),
  // Reports are computed by the offline service (ComputeDrift), which checks the caller first.
  [`${MD}/CreateMonitoringReport`]: service,
  [`${MD}/ListMonitoringReports`]: read(),
  [`${MD}/CreateLineageEdge`]: service,
  // The registry, when it deletes a model version: releases the version's lineage edges.
  [`${MD}/ReleaseModelVersion`]: service,
  // The registry, around creating and deleting a model: DeleteProject refuses a project it still
  // has models in. Listing is how the registry reconciles after a crash between its two writes.
  [`${MD}/RecordModel`]: service,
  [`${MD}/ForgetModel`]: service,
  [`${MD}/ListRecordedModels`]: service,
  [`${MD}/GetLineage`]: read(),
  [`${MD}/Search`]: read(),
  [`${MD}/WatchChanges`]: { kind: "project", role: Role.VIEWER, project: "project", emptyProject: "admin" },

  [`${MD}/CreateApiKey`]: authenticated,
  [`${MD}/ListApiKeys`]: authenticated,
  [`${MD}/RevokeApiKey`]: authenticated,
  [`${MD}/AuthenticateApiKey`]: authenticated,
  [`${MD}/ShareFeatureGroup`]: owner(),
  [`${MD}/UnshareFeatureGroup`]: owner(),
  [`${MD}/ListFeatureGroupShares`]: read(),
  [`${MD}/ListAuditEvents`]: owner(),
  [`${MD}/RecordAuditEvents`]: service,

  [`${ON}/WriteRows`]: groupWrite("project", "featureGroup"),
  [`${ON}/DeleteRows`]: groupWrite("project", "featureGroup"),
  [`${ON}/GetFeatureVectors`]: read(),
  [`${ON}/GetModelFeatureVectors`]: read(),
  // How far this replica has applied the write log: no project data, like a health check.
  [`${ON}/GetReplicaStatus`]: authenticated,
  // Refused write-log messages carry rows of the project's groups: readable where the rows are.
  [`${ON}/ListDeadLetters`]: read(),
  // Reads rows like GetFeatureVectors.
  [`${ON}/FindNeighbors`]: read(),

  [`${OFF}/Insert`]: groupWrite("message.header.project", "message.header.featureGroup"),
  [`${OFF}/DeleteRows`]: groupWrite("message.header.project", "message.header.featureGroup"),
  [`${OFF}/Read`]: read("project", "featureGroup.name"),
  [`${OFF}/ReadChanges`]: read("project", "featureGroup.name"),
  [`${OFF}/GetTrainingData`]: read("message.query.project"),
  [`${OFF}/CreateTrainingDataset`]: scientist("message.query.project"),
  [`${OFF}/ReadTrainingDataset`]: read(),
  [`${OFF}/GetBatchData`]: read("message.query.project"),
  [`${OFF}/ComputeStatistics`]: scientist(),
  // Rewrites the group's files (same rows), removing what its retention lets go.
  [`${OFF}/Compact`]: groupWrite("project", "featureGroup"),
  // The online reads behind it are made with the offline service's own key, after this check.
  [`${OFF}/CheckConsistency`]: read(),
  // Writes the view's logging group (an inference pipeline's key needs the data scientist role).
  [`${OFF}/LogFeatures`]: scientist(),
  // Stores a monitoring report, like ComputeStatistics stores statistics.
  [`${OFF}/ComputeDrift`]: scientist(),

  [`${REG}/CreateModel`]: scientist(),
  [`${REG}/GetModel`]: read(),
  [`${REG}/ListModels`]: read(),
  [`${REG}/UpdateModel`]: scientist("model.project"),
  [`${REG}/DeleteModel`]: scientist(),
  [`${REG}/CreateModelVersion`]: scientist("modelVersion.project"),
  [`${REG}/FinalizeModelVersion`]: scientist(),
  [`${REG}/GetModelVersion`]: read(),
  [`${REG}/ListModelVersions`]: read(),
  [`${REG}/UpdateModelVersion`]: scientist("modelVersion.project"),
  [`${REG}/DeleteModelVersion`]: scientist(),
  [`${REG}/UploadArtifact`]: scientist("message.header.project"),
  [`${REG}/DownloadArtifact`]: read(),
  [`${REG}/ListArtifacts`]: read(),
  [`${REG}/SetAlias`]: scientist(),
  [`${REG}/DeleteAlias`]: scientist(),
});

/** Whether a method changes something (audit entries are written for these). */
export function isMutation(method: string): boolean {
  return !/^(Get|List|Read|Search|Watch|Authenticate|Download)/.test(method.slice(method.lastIndexOf("/") + 1));
}

/** Reads a request field by a dotted camelCase path; a oneof member is reached by its case name. */
export function fieldAt(message: unknown, path: string): unknown {
  let value: unknown = message;
  for (const segment of path.split(".")) {
    if (value === null || typeof value !== "object") return undefined;
    const record = value as Record<string, unknown>;
    value = segment in record ? record[segment] : record.case === segment ? record.value : undefined;
  }
  return value;
}
