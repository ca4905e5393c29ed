import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Pool } from "pg";
import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from "@granary/errors";
import { ChangeKind, FeatureGroupShareSchema, type FeatureGroupShare } from "@granary/proto/metadata";
import { inCatalogueTransaction, type CatalogueTx } from "./catalogue-transaction.js";

interface ShareRow {
  project: string;
  feature_group: string;
  with_project: string;
  created_by: string;
  create_time: Date;
}

const COLUMNS = "project, feature_group, with_project, created_by, create_time";

/** Grants `withProject` read-only use of every version of a group; recorded in the owner's feed. */
export async function shareFeatureGroup(pool: Pool, project: string, group: string, withProject: string, createdBy: string): Promise<FeatureGroupShare> {
  if (withProject === project)
    throw new InvalidArgumentError("with_project must be another project: a project always reads its own groups", { field: "with_project" });
  return inCatalogueTransaction(pool, async (tx) => {
    const { rowCount: owner } = await tx.client.query("SELECT 1 FROM projects WHERE name = $1 FOR UPDATE", [project]);
    if (!owner) throw new NotFoundError(`project "${project}" does not exist`);
    const { rowCount: groups } = await tx.client.query("SELECT 1 FROM feature_groups WHERE project = $1 AND name = $2 LIMIT 1", [project, group]);
    if (!groups) throw new NotFoundError(`feature group "${group}" does not exist in project "${project}"`);
    const { rowCount: target } = await tx.client.query("SELECT 1 FROM projects WHERE name = $1", [withProject]);
    if (!target) throw new InvalidArgumentError(`with_project: project "${withProject}" does not exist`, { field: "with_project" });
    const { rowCount: existing } = await tx.client.query("SELECT 1 FROM feature_group_shares WHERE project = $1 AND feature_group = $2 AND with_project = $3", [
      project,
      group,
      withProject,
    ]);
    if (existing) throw new AlreadyExistsError(`feature group "${group}" of project "${project}" is already shared with project "${withProject}"`);
    const share = create(FeatureGroupShareSchema, { project, featureGroup: group, withProject, createdBy, createTime: timestampFromDate(tx.now) });
    await tx.client.query(`INSERT INTO feature_group_shares (${COLUMNS}) VALUES ($1, $2, $3, $4, $5)`, [project, group, withProject, createdBy, tx.now]);
    await tx.recordChange({ kind: ChangeKind.CREATED, project, resource: { case: "share", value: share } });
    return share;
  });
}

export async function unshareFeatureGroup(pool: Pool, project: string, group: string, withProject: string): Promise<void> {
  await inCatalogueTransaction(pool, async (tx) => {
    const removed = await deleteShares(tx, "project = $1 AND feature_group = $2 AND with_project = $3", [project, group, withProject]);
    if (removed === 0) throw new NotFoundError(`feature group "${group}" of project "${project}" is not shared with project "${withProject}"`);
  });
}

/** The shares a project granted and the shares it received. */
export async function listFeatureGroupShares(pool: Pool, project: string): Promise<{ granted: FeatureGroupShare[]; received: FeatureGroupShare[] }> {
  const { rowCount } = await pool.query("SELECT 1 FROM projects WHERE name = $1", [project]);
  if (!rowCount) throw new NotFoundError(`project "${project}" does not exist`);
  const { rows } = await pool.query<ShareRow>(
    `SELECT ${COLUMNS} FROM feature_group_shares WHERE project = $1 OR with_project = $1 ORDER BY project, feature_group, with_project`,
    [project],
  );
  return {
    granted: rows.filter((r) => r.project === project).map(shareOf),
    received: rows.filter((r) => r.with_project === project).map(shareOf),
  };
}

/** Every share as "project/group" → the projects that may read it (the authorizer's lookup). */
export async function loadShareMap(pool: Pool): Promise<Map<string, Set<string>>> {
  const { rows } = await pool.query<{ project: string; feature_group: string; with_project: string }>(
    "SELECT project, feature_group, with_project FROM feature_group_shares",
  );
  const map = new Map<string, Set<string>>();
  for (const r of rows) {
    const key = shareKey(r.project, r.feature_group);
    let set = map.get(key);
    if (!set) map.set(key, (set = new Set()));
    set.add(r.with_project);
  }
  return map;
}

export function shareKey(project: string, group: string): string {
  return `${project}/${group}`;
}

/**
 * Deletes shares matching `where` (over feature_group_shares' columns) and records each deletion
 * on the owning project's feed; the number deleted.
 */
export async function deleteShares(tx: CatalogueTx, where: string, params: readonly unknown[]): Promise<number> {
  const { rows } = await tx.client.query<ShareRow>(`DELETE FROM feature_group_shares WHERE ${where} RETURNING ${COLUMNS}`, [...params]);
  for (const row of rows) await tx.recordChange({ kind: ChangeKind.DELETED, project: row.project, resource: { case: "share", value: shareOf(row) } });
  return rows.length;
}

function shareOf(row: ShareRow): FeatureGroupShare {
  return create(FeatureGroupShareSchema, {
    project: row.project,
    featureGroup: row.feature_group,
    withProject: row.with_project,
    createdBy: row.created_by,
    createTime: timestampFromDate(row.create_time),
  });
}
