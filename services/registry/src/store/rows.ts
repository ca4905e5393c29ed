import { clone, create, fromJson, toJson, type JsonValue } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ArtifactSchema, ModelSchema$, ModelVersionSchema, ModelVersionStatus, type Artifact, type Model, type ModelVersion } from "@granary/proto/registry";

/** The columns of a Model: its row, the highest READY version and its aliases. */
export const MODEL_SELECT = `
  SELECT m.id, m.project, m.name, m.description, m.tags, m.revision, m.create_time, m.update_time,
    COALESCE((SELECT max(v.version) FROM model_versions v WHERE v.model_id = m.id AND v.status = 'READY'), 0) AS latest_version,
    COALESCE((SELECT jsonb_object_agg(a.alias, a.version) FROM aliases a WHERE a.model_id = m.id), '{}'::jsonb) AS aliases
  FROM models m`;

export interface ModelRow {
  id: string;
  project: string;
  name: string;
  description: string;
  tags: string[];
  revision: string;
  create_time: Date;
  update_time: Date;
  latest_version: number;
  aliases: Record<string, number>;
}

export function toModel(row: ModelRow): Model {
  return create(ModelSchema$, {
    project: row.project,
    name: row.name,
    description: row.description,
    tags: row.tags,
    aliases: row.aliases,
    latestVersion: row.latest_version,
    createTime: timestampFromDate(row.create_time),
    updateTime: timestampFromDate(row.update_time),
    etag: row.revision,
  });
}

/** The columns of a ModelVersion: its row, its model's names and the aliases pointing at it. */
export const VERSION_SELECT = selectVersions();

/** VERSION_SELECT with more columns in front. */
export function selectVersions(extraColumns = ""): string {
  return `
  SELECT ${extraColumns}v.model_id, m.project, m.name AS model, v.version, v.status, v.resource, v.revision, v.create_time, v.update_time,
    COALESCE((SELECT array_agg(a.alias ORDER BY a.alias) FROM aliases a WHERE a.model_id = v.model_id AND a.version = v.version), '{}') AS aliases
  FROM model_versions v JOIN models m ON m.id = v.model_id`;
}

export interface VersionRow {
  model_id: string;
  project: string;
  model: string;
  version: number;
  status: "UPLOADING" | "READY";
  resource: unknown;
  revision: string;
  create_time: Date;
  update_time: Date;
  aliases: string[];
}

export function toModelVersion(row: VersionRow): ModelVersion {
  const mv = fromJson(ModelVersionSchema, row.resource as JsonValue, { ignoreUnknownFields: true });
  mv.project = row.project;
  mv.model = row.model;
  mv.version = row.version;
  mv.status = row.status === "READY" ? ModelVersionStatus.READY : ModelVersionStatus.UPLOADING;
  mv.aliases = row.aliases;
  mv.createTime = timestampFromDate(row.create_time);
  mv.updateTime = timestampFromDate(row.update_time);
  mv.etag = row.revision;
  return mv;
}

/** What a version row keeps in `resource`: the definition, without what the columns hold. */
export function versionResource(mv: ModelVersion): JsonValue {
  const stored = clone(ModelVersionSchema, mv);
  stored.project = "";
  stored.model = "";
  stored.version = 0;
  stored.status = ModelVersionStatus.UNSPECIFIED;
  stored.aliases = [];
  stored.createTime = undefined;
  stored.updateTime = undefined;
  stored.etag = "";
  return toJson(ModelVersionSchema, stored);
}

export interface ArtifactRow {
  path: string;
  sha256: string;
  size_bytes: string;
  content_type: string;
  create_time: Date;
}

export function toArtifact(row: ArtifactRow): Artifact {
  return create(ArtifactSchema, {
    path: row.path,
    sha256: row.sha256,
    sizeBytes: BigInt(row.size_bytes),
    contentType: row.content_type,
    createTime: timestampFromDate(row.create_time),
  });
}
