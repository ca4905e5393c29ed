import { clone } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Pool } from "pg";
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from "@granary/errors";
import { ChangeKind, FeatureGroupSchema, type FeatureGroup } from "@granary/proto/metadata";
import type { Column } from "@granary/proto/types";
import {
  MUTABLE_GROUP_FIELDS,
  patchFeatureGroup,
  RESERVED_LOGGING_NAME,
  sameDefinition,
  validateAppendedColumns,
  validateFeatureGroup,
} from "@granary/catalogue-rules";
import { decodePageToken, pageOf, pageSizeOf } from "@granary/server";
import { inCatalogueTransaction, type CatalogueTx } from "./catalogue-transaction.js";
import { fromRow, toRow } from "./json-resource.js";
import { lockProject, staleEtag } from "./projects-store.js";
import { deleteShares } from "./shares-store.js";

const label = (project: string, name: string, version: number) => `feature group "${name}" version ${version} in project "${project}"`;

/**
 * Get-or-create: an identical definition returns the stored version with created = false. Names of
 * logging groups ("<view>_<version>_logging") are refused: only EnableFeatureLogging creates those.
 */
export async function createFeatureGroup(pool: Pool, fg: FeatureGroup): Promise<{ featureGroup: FeatureGroup; created: boolean }> {
  if (RESERVED_LOGGING_NAME.test(fg.name)) {
    throw new InvalidArgumentError(
      `feature group name "${fg.name}" is reserved for feature logging (names ending in _<version>_logging hold a view version's logs; EnableFeatureLogging creates them); choose another name`,
      { field: "feature_group.name" },
    );
  }
  return inCatalogueTransaction(pool, async (tx) => {
    await lockProject(tx, fg.project);
    const existing = await findGroup(tx, fg.project, fg.name, fg.version, true);
    if (existing) {
      if (sameDefinition(existing, fg)) return { featureGroup: existing, created: false };
      const latest = await latestVersion(tx, fg.project, fg.name);
      throw new AlreadyExistsError(
        `${label(fg.project, fg.name, fg.version)} already exists with a different definition; create version ${latest + 1} for the new one`,
      );
    }
    return { featureGroup: await insertGroup(tx, fg), created: true };
  });
}

/** Stores a new group version inside the caller's transaction (its id, times and etag assigned). */
export async function insertGroup(tx: CatalogueTx, fg: FeatureGroup): Promise<FeatureGroup> {
  const { rows } = await tx.client.query<{ id: string }>("SELECT nextval(pg_get_serial_sequence('feature_groups', 'id'))::text AS id");
  const stored = clone(FeatureGroupSchema, fg);
  stored.id = BigInt(rows[0]?.id ?? "0");
  stored.createTime = timestampFromDate(tx.now);
  stored.updateTime = stored.createTime;
  stored.etag = await tx.recordChange({ kind: ChangeKind.CREATED, project: fg.project, resource: { case: "featureGroup", value: stored } });
  await tx.client.query(
    `INSERT INTO feature_groups (id, project, name, version, tags, description, resource, etag)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [stored.id.toString(), stored.project, stored.name, stored.version, stored.tags, stored.description, toRow(FeatureGroupSchema, stored), stored.etag],
  );
  return stored;
}

/** A version of a group; version 0 means the latest. */
export async function getFeatureGroup(pool: Pool, project: string, name: string, version: number): Promise<FeatureGroup> {
  const { rows } = await pool.query<{ resource: unknown }>(
    `SELECT resource FROM feature_groups WHERE project = $1 AND name = $2 AND ($3 = 0 OR version = $3)
     ORDER BY version DESC LIMIT 1`,
    [project, name, version],
  );
  if (!rows[0]) {
    throw new NotFoundError(
      version === 0 ? `feature group "${name}" does not exist in project "${project}"` : `${label(project, name, version)} does not exist`,
    );
  }
  return fromRow(FeatureGroupSchema, rows[0].resource);
}

export interface ListGroupsOptions {
  pageSize: number;
  pageToken: string;
  name: string;
  tag: string;
}

export async function listFeatureGroups(pool: Pool, project: string, o: ListGroupsOptions): Promise<{ items: FeatureGroup[]; nextPageToken: string }> {
  await assertProjectExists(pool, project);
  const size = pageSizeOf(o.pageSize);
  const query = ["feature_groups", project, o.name, o.tag];
  const after = decodePageToken(o.pageToken, query);
  const { rows } = await pool.query<{ name: string; version: number; resource: unknown }>(
    `SELECT name, version, resource FROM feature_groups
     WHERE project = $1 AND ($2 = '' OR name = $2) AND ($3 = '' OR $3 = ANY (tags))
       AND ($4::text IS NULL OR (name, version) > ($4, $5::int))
     ORDER BY name, version LIMIT $6`,
    [project, o.name, o.tag, after?.[0] ?? null, after?.[1] ?? 0, size + 1],
  );
  const page = pageOf(rows, size, query, (r) => [r.name, r.version]);
  return { items: page.items.map((r) => fromRow(FeatureGroupSchema, r.resource)), nextPageToken: page.nextPageToken };
}

/**
 * Changes what may change on an existing version (description, tags, metadata, statistics config,
 * validation rules, TTL). With no mask, every mutable field is taken from `patch` and any other
 * difference is refused: a schema change is a new version.
 */
export async function updateFeatureGroup(pool: Pool, patch: FeatureGroup, paths: readonly string[]): Promise<FeatureGroup> {
  return inCatalogueTransaction(pool, async (tx) => {
    const current = await requireGroup(tx, patch.project, patch.name, patch.version);
    if (patch.etag !== "" && patch.etag !== current.etag) throw staleEtag("feature group", patch.name);
    const mutable: readonly string[] = MUTABLE_GROUP_FIELDS;
    const immutable = paths.filter((p) => !mutable.includes(p));
    if (immutable.length > 0) {
      throw new FailedPreconditionError(
        `${immutable.join(", ")} of ${label(patch.project, patch.name, patch.version)} cannot change; create version ${(await latestVersion(tx, patch.project, patch.name)) + 1} instead (AppendFeatures adds columns)`,
      );
    }
    const next = patchFeatureGroup(current, patch, paths.length > 0 ? paths : MUTABLE_GROUP_FIELDS);
    if (paths.length === 0 && !sameDefinition(next, patch)) {
      throw new FailedPreconditionError(
        `only ${MUTABLE_GROUP_FIELDS.join(", ")} of ${label(patch.project, patch.name, patch.version)} can change; create version ${(await latestVersion(tx, patch.project, patch.name)) + 1} for a different schema`,
      );
    }
    if (next.embeddingIndexes.length > 0 && !next.onlineEnabled) {
      throw new FailedPreconditionError(
        `${label(patch.project, patch.name, patch.version)} is not online-enabled, and embedding indexes are kept by the online service; create version ${(await latestVersion(tx, patch.project, patch.name)) + 1} with online_enabled to index it`,
      );
    }
    validateFeatureGroup(next);
    return saveGroup(tx, next);
  });
}

export async function appendFeatures(
  pool: Pool,
  project: string,
  name: string,
  version: number,
  columns: readonly Column[],
  etag: string,
): Promise<FeatureGroup> {
  return inCatalogueTransaction(pool, async (tx) => {
    const current = await requireGroup(tx, project, name, version);
    if (etag !== "" && etag !== current.etag) throw staleEtag("feature group", name);
    validateAppendedColumns(current.columns, columns);
    const next = clone(FeatureGroupSchema, current);
    next.columns.push(...columns);
    validateFeatureGroup(next);
    return saveGroup(tx, next);
  });
}

export async function deleteFeatureGroup(pool: Pool, project: string, name: string, version: number, etag: string): Promise<void> {
  await inCatalogueTransaction(pool, async (tx) => {
    const current = await requireGroup(tx, project, name, version);
    if (etag !== "" && etag !== current.etag) throw staleEtag("feature group", name);
    const { rows: views } = await tx.client.query<{ name: string; version: number }>(
      `SELECT v.name, v.version FROM feature_view_sources s JOIN feature_views v ON v.id = s.view_id
       WHERE s.group_id = $1 ORDER BY v.name, v.version LIMIT 5`,
      [current.id.toString()],
    );
    if (views.length > 0) {
      const names = views.map((v) => `${v.name} v${v.version}`).join(", ");
      throw new FailedPreconditionError(`${label(project, name, version)} is used by feature view ${names}; delete those views first`);
    }
    await tx.client.query("DELETE FROM statistics WHERE project = $1 AND subject LIKE $2", [project, `group/${name}/${version}/%`]);
    await tx.client.query("DELETE FROM feature_groups WHERE id = $1", [current.id.toString()]);
    await tx.recordChange({ kind: ChangeKind.DELETED, project, resource: { case: "featureGroup", value: current } });
    // A share names the group, not a version: it ends with the group's last version.
    if ((await latestVersion(tx, project, name)) === 0) await deleteShares(tx, "project = $1 AND feature_group = $2", [project, name]);
  });
}

/** The group, locked for the rest of the transaction, or NOT_FOUND. */
export async function requireGroup(tx: CatalogueTx, project: string, name: string, version: number): Promise<FeatureGroup> {
  const group = await findGroup(tx, project, name, version, true);
  if (!group) throw new NotFoundError(`${label(project, name, version)} does not exist`);
  return group;
}

export async function findGroup(tx: CatalogueTx, project: string, name: string, version: number, lock: boolean): Promise<FeatureGroup | undefined> {
  const { rows } = await tx.client.query<{ resource: unknown }>(
    `SELECT resource FROM feature_groups WHERE project = $1 AND name = $2 AND version = $3${lock ? " FOR UPDATE" : ""}`,
    [project, name, version],
  );
  return rows[0] ? fromRow(FeatureGroupSchema, rows[0].resource) : undefined;
}

async function latestVersion(tx: CatalogueTx, project: string, name: string): Promise<number> {
  const { rows } = await tx.client.query<{ v: number | null }>("SELECT max(version) AS v FROM feature_groups WHERE project = $1 AND name = $2", [
    project,
    name,
  ]);
  return rows[0]?.v ?? 0;
}

async function saveGroup(tx: CatalogueTx, next: FeatureGroup): Promise<FeatureGroup> {
  next.updateTime = timestampFromDate(tx.now);
  next.etag = await tx.recordChange({ kind: ChangeKind.UPDATED, project: next.project, resource: { case: "featureGroup", value: next } });
  await tx.client.query("UPDATE feature_groups SET tags = $2, description = $3, resource = $4, etag = $5 WHERE id = $1", [
    next.id.toString(),
    next.tags,
    next.description,
    toRow(FeatureGroupSchema, next),
    next.etag,
  ]);
  return next;
}

export async function assertProjectExists(pool: Pool, project: string): Promise<void> {
  const { rowCount } = await pool.query("SELECT 1 FROM projects WHERE name = $1", [project]);
  if (!rowCount) throw new NotFoundError(`project "${project}" does not exist`);
}
