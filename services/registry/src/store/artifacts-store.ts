import type { Pool, PoolClient } from "pg";
import { withTransaction } from "@granary/postgres";
import { FailedPreconditionError, NotFoundError } from "@granary/errors";
import type { Artifact } from "@granary/proto/registry";
import type { BlobStore, StagedBlob } from "./blob-store.js";
import { toArtifact, type ArtifactRow } from "./rows.js";
import { versionLabel } from "./versions-store.js";

export interface ArtifactTarget {
  project: string;
  model: string;
  version: number;
  path: string;
  contentType: string;
}

/**
 * Records a staged blob as `path` of an UPLOADING version: under the digest's lock, the blob is
 * renamed into place, then its row is written, and both are visible together at the commit. A
 * version that is READY by now refuses (its artifacts are immutable). Uploading a path again
 * replaces it; the digest it had is returned so the caller can collect it.
 */
export async function commitArtifact(
  pool: Pool,
  blobs: BlobStore,
  target: ArtifactTarget,
  staged: StagedBlob,
): Promise<{ artifact: Artifact; replaced: string | undefined }> {
  return withTransaction(pool, async (client) => {
    // FOR SHARE: uploads into one version commit side by side; finalize and delete wait for them.
    const { rows } = await client.query<{ model_id: string; status: string }>(
      `SELECT v.model_id, v.status FROM model_versions v JOIN models m ON m.id = v.model_id
       WHERE m.project = $1 AND m.name = $2 AND v.version = $3 FOR SHARE OF v`,
      [target.project, target.model, target.version],
    );
    const version = rows[0];
    if (!version) throw new NotFoundError(`${versionLabel(target.project, target.model, target.version)} does not exist`);
    if (version.status !== "UPLOADING") throw notUploading(target);
    await lockDigest(client, staged.sha256);
    await blobs.place(staged);
    const { rows: before } = await client.query<{ sha256: string }>(
      "SELECT sha256 FROM artifacts WHERE model_id = $1 AND version = $2 AND path = $3 FOR UPDATE",
      [version.model_id, target.version, target.path],
    );
    const { rows: written } = await client.query<ArtifactRow>(
      `INSERT INTO artifacts (model_id, version, path, sha256, size_bytes, content_type, create_time)
       VALUES ($1, $2, $3, $4, $5, $6, now())
       ON CONFLICT (model_id, version, path) DO UPDATE
         SET sha256 = EXCLUDED.sha256, size_bytes = EXCLUDED.size_bytes, content_type = EXCLUDED.content_type, create_time = EXCLUDED.create_time
       RETURNING path, sha256, size_bytes, content_type, create_time`,
      [version.model_id, target.version, target.path, staged.sha256, staged.sizeBytes, target.contentType],
    );
    const previous = before[0]?.sha256;
    return { artifact: toArtifact(written[0]!), replaced: previous !== undefined && previous !== staged.sha256 ? previous : undefined };
  });
}

/**
 * Records that an upload into the version is alive (at its start, then now and then while it
 * streams), so the sweep does not take a slow upload for an abandoned one. Fails, before any content
 * is read, when the version cannot take artifacts.
 */
export async function touchUpload(pool: Pool, target: Omit<ArtifactTarget, "path" | "contentType">): Promise<void> {
  const { rows } = await pool.query<{ status: string; touched: boolean }>(
    `WITH touched AS (
       UPDATE model_versions v SET activity_time = now() FROM models m
       WHERE m.id = v.model_id AND m.project = $1 AND m.name = $2 AND v.version = $3 AND v.status = 'UPLOADING'
       RETURNING v.version)
     SELECT v.status, EXISTS (SELECT 1 FROM touched) AS touched
     FROM model_versions v JOIN models m ON m.id = v.model_id WHERE m.project = $1 AND m.name = $2 AND v.version = $3`,
    [target.project, target.model, target.version],
  );
  if (!rows[0]) throw new NotFoundError(`${versionLabel(target.project, target.model, target.version)} does not exist`);
  if (!rows[0].touched) throw notUploading(target);
}

function notUploading(target: Omit<ArtifactTarget, "path" | "contentType">): FailedPreconditionError {
  return new FailedPreconditionError(`${versionLabel(target.project, target.model, target.version)} is READY; artifacts are immutable (create a new version)`);
}

/** Artifacts of a version, READY or still UPLOADING, by path. */
export async function listArtifacts(pool: Pool, project: string, model: string, version: number): Promise<Artifact[]> {
  const { rows } = await pool.query<ArtifactRow>(
    `SELECT a.path, a.sha256, a.size_bytes, a.content_type, a.create_time
     FROM model_versions v JOIN models m ON m.id = v.model_id
     LEFT JOIN artifacts a ON a.model_id = v.model_id AND a.version = v.version
     WHERE m.project = $1 AND m.name = $2 AND v.version = $3 ORDER BY a.path`,
    [project, model, version],
  );
  if (rows.length === 0) throw new NotFoundError(`${versionLabel(project, model, version)} does not exist`);
  return rows.filter((r) => r.path !== null).map(toArtifact);
}

export async function getArtifact(pool: Pool, project: string, model: string, version: number, path: string): Promise<Artifact> {
  const { rows } = await pool.query<ArtifactRow>(
    `SELECT a.path, a.sha256, a.size_bytes, a.content_type, a.create_time
     FROM artifacts a JOIN models m ON m.id = a.model_id
     WHERE m.project = $1 AND m.name = $2 AND a.version = $3 AND a.path = $4`,
    [project, model, version, path],
  );
  if (!rows[0]) throw new NotFoundError(`${versionLabel(project, model, version)} has no artifact "${path}"`);
  return toArtifact(rows[0]);
}

/**
 * Removes a blob no artifact refers to any more. Under the digest's lock, so an upload that is
 * placing the same content either commits its row first (and the blob stays) or places it again
 * after this removed it.
 */
export async function collectBlob(pool: Pool, blobs: BlobStore, sha256: string): Promise<boolean> {
  return withTransaction(pool, async (client) => {
    await lockDigest(client, sha256);
    const { rowCount } = await client.query("SELECT 1 FROM artifacts WHERE sha256 = $1 LIMIT 1", [sha256]);
    if (rowCount) return false;
    await blobs.remove(sha256);
    return true;
  });
}

/** Of these digests, those no artifact refers to. */
export async function unreferencedDigests(pool: Pool, digests: readonly string[]): Promise<string[]> {
  if (digests.length === 0) return [];
  const { rows } = await pool.query<{ sha256: string }>("SELECT DISTINCT sha256 FROM artifacts WHERE sha256 = ANY ($1::text[])", [digests]);
  const referenced = new Set(rows.map((r) => r.sha256));
  return digests.filter((d) => !referenced.has(d));
}

// A transaction-scoped lock per digest (its first 64 bits): serialises placing and collecting it.
async function lockDigest(client: PoolClient, sha256: string): Promise<void> {
  await client.query("SELECT pg_advisory_xact_lock($1::bigint)", [BigInt.asIntN(64, BigInt(`0x${sha256.slice(0, 16)}`)).toString()]);
}
