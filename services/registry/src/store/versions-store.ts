import type { Pool, PoolClient } from "pg";
import { withTransaction } from "@granary/postgres";
import { FailedPreconditionError, NotFoundError } from "@granary/errors";
import type { ModelVersion } from "@granary/proto/registry";
import { validateVersionDefinition } from "../domain/model-rules.js";
import { decodePageToken, pageOf, pageSizeOf } from "@granary/server";
import { patchVersion } from "../domain/version-update.js";
import { checkEtag, insertModel, lockModel, modelLabel, touchModel, type OnNewModel } from "./models-store.js";
import { VERSION_SELECT, selectVersions, toModelVersion, versionResource, type VersionRow } from "./rows.js";

export const versionLabel = (project: string, model: string, version: number) => `version ${version} of ${modelLabel(project, model)}`;

/**
 * Registers a version, UPLOADING, with the next number of its model (creating the model on first
 * use, as a training pipeline expects; `onNewModel` runs then, before the commit). The number comes
 * from the model row's counter, updated in the same statement that locks the row: concurrent
 * creates get distinct numbers, and a create that fails hands its number back. `afterInsert` runs
 * before the commit (the lineage record): when it fails, the version is not created.
 */
export async function createVersion(
  pool: Pool,
  mv: ModelVersion,
  onNewModel: OnNewModel,
  afterInsert: (version: number) => Promise<void>,
): Promise<ModelVersion> {
  return withTransaction(pool, async (client) => {
    await insertModel(client, mv.project, mv.model, onNewModel);
    const { rows } = await client.query<{ id: string; last_version: number }>(
      "UPDATE models SET last_version = last_version + 1 WHERE project = $1 AND name = $2 RETURNING id, last_version",
      [mv.project, mv.model],
    );
    const { id, last_version: version } = rows[0]!;
    await client.query(
      `INSERT INTO model_versions (model_id, version, status, tags, resource, create_time, update_time, activity_time)
       VALUES ($1, $2, 'UPLOADING', $3, $4, now(), now(), now())`,
      [id, version, mv.tags, versionResource(mv)],
    );
    await afterInsert(version);
    return readVersion(client, mv.project, mv.model, version);
  });
}

export type VersionSelector = { case: "version"; value: number } | { case: "alias"; value: string };

/** A version by number or alias; one still UPLOADING only when asked for. */
export async function getVersion(pool: Pool, project: string, model: string, selector: VersionSelector, includeIncomplete: boolean): Promise<ModelVersion> {
  let row: VersionRow | undefined;
  if (selector.case === "alias") {
    ({
      rows: [row],
    } = await pool.query<VersionRow>(
      `${VERSION_SELECT} JOIN aliases al ON al.model_id = v.model_id AND al.version = v.version
       WHERE m.project = $1 AND m.name = $2 AND al.alias = $3`,
      [project, model, selector.value],
    ));
    if (!row) throw new NotFoundError(`${modelLabel(project, model)} has no alias "${selector.value}"`);
  } else {
    ({
      rows: [row],
    } = await pool.query<VersionRow>(`${VERSION_SELECT} WHERE m.project = $1 AND m.name = $2 AND v.version = $3`, [project, model, selector.value]));
    if (!row) throw new NotFoundError(`${versionLabel(project, model, selector.value)} does not exist`);
  }
  if (row.status !== "READY" && !includeIncomplete) {
    throw new NotFoundError(
      `${versionLabel(project, model, row.version)} is still UPLOADING; FinalizeModelVersion makes it visible (include_incomplete shows it now)`,
    );
  }
  return toModelVersion(row);
}

export interface ListVersionsOptions {
  pageSize: number;
  pageToken: string;
  orderByMetric: string;
  descending: boolean;
  tag: string;
  includeIncomplete: boolean;
}

/**
 * Versions of a model, by a metric (versions without it, or with a non-finite value, last) or by
 * number; ties broken by number in the same direction. Keyset pages on (missing, key, number).
 */
export async function listVersions(
  pool: Pool,
  project: string,
  model: string,
  o: ListVersionsOptions,
): Promise<{ items: ModelVersion[]; nextPageToken: string }> {
  const { rows: found } = await pool.query<{ id: string }>("SELECT id FROM models WHERE project = $1 AND name = $2", [project, model]);
  const modelId = found[0]?.id;
  if (modelId === undefined) throw new NotFoundError(`${modelLabel(project, model)} does not exist`);
  const size = pageSizeOf(o.pageSize);
  const query = ["versions", project, model, o.orderByMetric, o.descending, o.tag, o.includeIncomplete];
  const after = decodePageToken(o.pageToken, query);
  // Proto JSON writes NaN and ±Infinity as strings: only numbers are ordered.
  const { rows } = await pool.query<VersionRow & { missing: boolean; k: number; vk: number }>(
    `SELECT * FROM (
       SELECT listed.*, (metric IS NULL) AS missing,
         COALESCE(CASE WHEN $5 THEN -metric ELSE metric END, 0) AS k,
         CASE WHEN $5 THEN -version ELSE version END AS vk
       FROM (
         ${selectVersions("CASE WHEN jsonb_typeof(v.resource->'metrics'->($4::text)) = 'number' THEN (v.resource->'metrics'->>($4::text))::float8 END AS metric, ")}
         WHERE v.model_id = $1 AND ($2 OR v.status = 'READY') AND ($3 = '' OR $3 = ANY (v.tags))
       ) listed
     ) keyed
     WHERE $6::boolean IS NULL OR (missing, k, vk) > ($6, $7::float8, $8::int)
     ORDER BY missing, k, vk LIMIT $9`,
    [modelId, o.includeIncomplete, o.tag, o.orderByMetric, o.descending, after?.[0] ?? null, after?.[1] ?? 0, after?.[2] ?? 0, size + 1],
  );
  const page = pageOf(rows, size, query, (r) => [r.missing, r.k, r.vk]);
  return { items: page.items.map(toModelVersion), nextPageToken: page.nextPageToken };
}

/** Marks a version READY; finalizing a READY version returns it unchanged. */
export async function finalizeVersion(pool: Pool, project: string, model: string, version: number): Promise<ModelVersion> {
  return withTransaction(pool, async (client) => {
    const locked = await lockModel(client, project, model);
    const current = await lockVersion(client, locked.id, project, model, version);
    if (current.status !== "READY") {
      await client.query("UPDATE model_versions SET status = 'READY', revision = revision + 1, update_time = now() WHERE model_id = $1 AND version = $2", [
        locked.id,
        version,
      ]);
      await touchModel(client, locked.id);
    }
    return readVersion(client, project, model, version);
  });
}

/** Description and tags any time; metrics and the rest of the definition while UPLOADING. */
export async function updateVersion(pool: Pool, patch: ModelVersion, paths: readonly string[]): Promise<ModelVersion> {
  return withTransaction(pool, async (client) => {
    const locked = await lockModel(client, patch.project, patch.model);
    const row = await lockVersion(client, locked.id, patch.project, patch.model, patch.version);
    checkEtag(patch.etag, row.revision, versionLabel(patch.project, patch.model, patch.version));
    const current = await readVersion(client, patch.project, patch.model, patch.version);
    const next = patchVersion(current, patch, paths, row.status === "READY");
    validateVersionDefinition(next);
    await client.query(
      "UPDATE model_versions SET tags = $3, resource = $4, revision = revision + 1, update_time = now() WHERE model_id = $1 AND version = $2",
      [locked.id, patch.version, next.tags, versionResource(next)],
    );
    return readVersion(client, patch.project, patch.model, patch.version);
  });
}

/**
 * Deletes a version and its artifact records; refused while an alias points at it. Returns the
 * digests it referenced, for the caller to collect once this has committed.
 */
/**
 * Deletes a version and its rows; `beforeCommit` (releasing its lineage in the metadata service)
 * runs before the commit, so a version whose lineage could not be released stays, and a retry
 * repeats both (the release is idempotent).
 */
export async function deleteVersion(
  pool: Pool,
  project: string,
  model: string,
  version: number,
  etag: string,
  beforeCommit?: (deleted: ModelVersion) => Promise<void>,
): Promise<string[]> {
  return withTransaction(pool, async (client) => {
    const locked = await lockModel(client, project, model);
    const row = await lockVersion(client, locked.id, project, model, version);
    checkEtag(etag, row.revision, versionLabel(project, model, version));
    const { rows: aliases } = await client.query<{ alias: string }>("SELECT alias FROM aliases WHERE model_id = $1 AND version = $2 ORDER BY alias", [
      locked.id,
      version,
    ]);
    if (aliases.length > 0) {
      const names = aliases.map((a) => `"${a.alias}"`).join(", ");
      throw new FailedPreconditionError(`${versionLabel(project, model, version)} is what alias ${names} points to; move or delete the alias first`);
    }
    const deleted = beforeCommit ? await readVersion(client, project, model, version) : undefined;
    const digests = await removeVersionRows(client, locked.id, version);
    if (row.status === "READY") await touchModel(client, locked.id);
    if (beforeCommit) await beforeCommit(deleted!);
    return digests;
  });
}

/** Versions UPLOADING with no sign of an upload for `idleMs`. */
export async function findAbandonedVersions(pool: Pool, idleMs: number): Promise<{ project: string; model: string; version: number }[]> {
  const { rows } = await pool.query<{ project: string; model: string; version: number }>(
    `SELECT m.project, m.name AS model, v.version FROM model_versions v JOIN models m ON m.id = v.model_id
     WHERE v.status = 'UPLOADING' AND ${LAST_ACTIVITY} <= now() - make_interval(secs => $1::float8 / 1000)
     ORDER BY m.project, m.name, v.version`,
    [idleMs],
  );
  return rows;
}

/**
 * Deletes a version found abandoned if, under the model's lock, it still is. Its blobs are left for
 * the caller's sweep of unreferenced blobs. False when it was finalized, deleted or used meanwhile.
 */
export async function deleteAbandonedVersion(pool: Pool, project: string, model: string, version: number, idleMs: number): Promise<boolean> {
  return withTransaction(pool, async (client) => {
    const locked = await lockModel(client, project, model);
    const { rows } = await client.query(
      `SELECT 1 FROM model_versions v WHERE v.model_id = $1 AND v.version = $2 AND v.status = 'UPLOADING'
         AND ${LAST_ACTIVITY} <= now() - make_interval(secs => $3::float8 / 1000)
       FOR UPDATE`,
      [locked.id, version, idleMs],
    );
    if (rows.length === 0) return false;
    await removeVersionRows(client, locked.id, version);
    return true;
  });
}

// Created, changed, an upload started or still streaming, an artifact stored.
const LAST_ACTIVITY = `GREATEST(v.update_time, v.activity_time, COALESCE((SELECT max(a.create_time) FROM artifacts a WHERE a.model_id = v.model_id AND a.version = v.version), v.update_time))`;

async function removeVersionRows(client: PoolClient, modelId: string, version: number): Promise<string[]> {
  const { rows } = await client.query<{ sha256: string }>("DELETE FROM artifacts WHERE model_id = $1 AND version = $2 RETURNING sha256", [modelId, version]);
  await client.query("DELETE FROM model_versions WHERE model_id = $1 AND version = $2", [modelId, version]);
  return [...new Set(rows.map((r) => r.sha256))];
}

async function lockVersion(
  client: PoolClient,
  modelId: string,
  project: string,
  model: string,
  version: number,
): Promise<{ status: string; revision: string }> {
  const { rows } = await client.query<{ status: string; revision: string }>(
    "SELECT status, revision FROM model_versions WHERE model_id = $1 AND version = $2 FOR UPDATE",
    [modelId, version],
  );
  if (!rows[0]) throw new NotFoundError(`${versionLabel(project, model, version)} does not exist`);
  return rows[0];
}

export async function readVersion(client: Pool | PoolClient, project: string, model: string, version: number): Promise<ModelVersion> {
  const { rows } = await client.query<VersionRow>(`${VERSION_SELECT} WHERE m.project = $1 AND m.name = $2 AND v.version = $3`, [project, model, version]);
  if (!rows[0]) throw new NotFoundError(`${versionLabel(project, model, version)} does not exist`);
  return toModelVersion(rows[0]);
}
