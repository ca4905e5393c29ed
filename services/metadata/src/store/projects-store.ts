import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Pool, PoolClient } from "pg";
import { AbortedError, AlreadyExistsError, FailedPreconditionError, NotFoundError } from "@granary/errors";
import { ChangeKind, ProjectSchema, type Project } from "@granary/proto/metadata";
import { decodePageToken, pageOf, pageSizeOf } from "@granary/server";
import { inCatalogueTransaction, type CatalogueTx } from "./catalogue-transaction.js";
import { fromRow, toRow } from "./json-resource.js";
import { deleteShares } from "./shares-store.js";

export async function createProject(pool: Pool, name: string, description: string): Promise<Project> {
  return inCatalogueTransaction(pool, async (tx) => {
    const existing = await tx.client.query("SELECT 1 FROM projects WHERE name = $1", [name]);
    if (existing.rowCount) throw new AlreadyExistsError(`project "${name}" already exists`);
    const project = create(ProjectSchema, { name, description, createTime: timestampFromDate(tx.now), updateTime: timestampFromDate(tx.now) });
    project.etag = await tx.recordChange({ kind: ChangeKind.CREATED, project: name, resource: { case: "projectResource", value: project } });
    await tx.client.query("INSERT INTO projects (name, resource, create_time, etag) VALUES ($1, $2, $3, $4)", [
      name,
      toRow(ProjectSchema, project),
      tx.now,
      project.etag,
    ]);
    return project;
  });
}

export async function getProject(pool: Pool, name: string): Promise<Project> {
  const { rows } = await pool.query<{ resource: unknown }>("SELECT resource FROM projects WHERE name = $1", [name]);
  if (!rows[0]) throw new NotFoundError(`project "${name}" does not exist`);
  return fromRow(ProjectSchema, rows[0].resource);
}

/** Projects by name; `only` (undefined: every project) limits them to those the caller may read. */
export async function listProjects(
  pool: Pool,
  pageSize: number,
  pageToken: string,
  only?: ReadonlySet<string>,
): Promise<{ items: Project[]; nextPageToken: string }> {
  const size = pageSizeOf(pageSize);
  const names = only ? [...only].sort() : null;
  const query = ["projects", names];
  const after = decodePageToken(pageToken, query);
  const { rows } = await pool.query<{ name: string; resource: unknown }>(
    "SELECT name, resource FROM projects WHERE ($1::text IS NULL OR name > $1) AND ($3::text[] IS NULL OR name = ANY ($3)) ORDER BY name LIMIT $2",
    [after?.[0] ?? null, size + 1, names],
  );
  const page = pageOf(rows, size, query, (r) => [r.name]);
  return { items: page.items.map((r) => fromRow(ProjectSchema, r.resource)), nextPageToken: page.nextPageToken };
}

export async function deleteProject(pool: Pool, name: string, etag: string): Promise<void> {
  await inCatalogueTransaction(pool, async (tx) => {
    const project = await lockProject(tx, name);
    if (etag !== "" && etag !== project.etag) throw staleEtag("project", name);
    const used = await tx.client.query("SELECT 1 FROM feature_groups WHERE project = $1 UNION ALL SELECT 1 FROM feature_views WHERE project = $1 LIMIT 1", [
      name,
    ]);
    if (used.rowCount) throw new FailedPreconditionError(`project "${name}" still has feature groups or views; delete them first`);
    // Refused rather than cascaded: deleting models is the registry's business (their artifacts are
    // its files), and metadata never calls the registry.
    await refuseWhileModels(tx.client, name);
    await tx.client.query("DELETE FROM statistics WHERE project = $1", [name]);
    await tx.client.query("DELETE FROM lineage_edges WHERE project = $1", [name]);
    await deleteShares(tx, "project = $1 OR with_project = $1", [name]);
    await tx.client.query("DELETE FROM projects WHERE name = $1", [name]);
    await tx.recordChange({ kind: ChangeKind.DELETED, project: name, resource: { case: "projectResource", value: project } });
  });
}

/** FAILED_PRECONDITION naming how many models the registry still has in the project, and the first few. */
async function refuseWhileModels(client: PoolClient, project: string): Promise<void> {
  const { rows } = await client.query<{ model: string; total: string }>(
    "SELECT model, count(*) OVER ()::text AS total FROM recorded_models WHERE project = $1 ORDER BY model LIMIT 3",
    [project],
  );
  if (!rows[0]) return;
  const total = Number(rows[0].total);
  const names = rows.map((r) => r.model).join(", ") + (total > rows.length ? ", …" : "");
  throw new FailedPreconditionError(
    `project "${project}" still has ${total} ${total === 1 ? "model" : "models"} in the registry (${names}); delete them first`,
  );
}

/** The project, locked for the rest of the transaction; NOT_FOUND when it does not exist. */
export async function lockProject(tx: CatalogueTx, name: string): Promise<Project> {
  const { rows } = await tx.client.query<{ resource: unknown }>("SELECT resource FROM projects WHERE name = $1 FOR UPDATE", [name]);
  if (!rows[0]) throw new NotFoundError(`project "${name}" does not exist; create it first`);
  return fromRow(ProjectSchema, rows[0].resource);
}

export function staleEtag(kind: string, name: string): AbortedError {
  return new AbortedError(`${kind} "${name}" was changed by someone else (stale etag); read it again and retry`);
}
