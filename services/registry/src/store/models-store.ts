import type { Pool, PoolClient } from "pg";
import { withTransaction } from "@granary/postgres";
import { AbortedError, AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from "@granary/errors";
import type { Model } from "@granary/proto/registry";
import { decodePageToken, pageOf, pageSizeOf } from "@granary/server";
import { MODEL_SELECT, toModel, type ModelRow } from "./rows.js";

export const modelLabel = (project: string, name: string) => `model "${name}" in project "${project}"`;

export interface ModelInit {
  project: string;
  name: string;
  description: string;
  tags: readonly string[];
}

/** What runs when a transaction inserts a model, before it commits: the metadata record. */
export type OnNewModel = (registryId: string) => Promise<void>;

/**
 * Creates a model. Creating one that exists with the same description and tags returns it (a
 * retried call succeeds); with others it is ALREADY_EXISTS, as UpdateModel is how they change.
 * `onNew` runs before the commit; when it fails, the model is not created.
 */
export async function createModel(pool: Pool, init: ModelInit, onNew: OnNewModel): Promise<Model> {
  return withTransaction(pool, async (client) => {
    const inserted = await insertModel(client, init.project, init.name, onNew, init.description, init.tags);
    const model = await readModel(client, init.project, init.name);
    if (!inserted && (model.description !== init.description || !sameList(model.tags, init.tags))) {
      throw new AlreadyExistsError(`${modelLabel(init.project, init.name)} already exists with another description or tags; UpdateModel changes them`);
    }
    return model;
  });
}

// Held shared by a transaction that inserts a model, from before the insert to its commit (the
// metadata record is written in between), and exclusively by the reconciliation of records, which
// so never takes a record whose model is about to commit for a leftover of a crash.
const MODEL_CREATION_LOCK = 7_310_472_912_013n;

export async function lockModelCreation(client: PoolClient, mode: "shared" | "exclusive"): Promise<void> {
  await client.query(mode === "shared" ? "SELECT pg_advisory_xact_lock_shared($1)" : "SELECT pg_advisory_xact_lock($1)", [MODEL_CREATION_LOCK.toString()]);
}

/**
 * Inserts the model unless it exists, and runs `onNew` for a new one (inside the transaction). A
 * concurrent insert of the same name waits for this one's commit and then finds the model.
 */
export async function insertModel(
  client: PoolClient,
  project: string,
  name: string,
  onNew: OnNewModel,
  description = "",
  tags: readonly string[] = [],
): Promise<boolean> {
  await lockModelCreation(client, "shared");
  const { rows } = await client.query<{ id: string }>(
    `INSERT INTO models (project, name, description, tags, create_time, update_time)
     VALUES ($1, $2, $3, $4, now(), now()) ON CONFLICT (project, name) DO NOTHING RETURNING id::text`,
    [project, name, description, tags],
  );
  if (!rows[0]) return false;
  await onNew(rows[0].id);
  return true;
}

export async function getModel(pool: Pool | PoolClient, project: string, name: string): Promise<Model> {
  return readModel(pool, project, name);
}

export async function listModels(
  pool: Pool,
  project: string,
  o: { pageSize: number; pageToken: string; tag: string },
): Promise<{ items: Model[]; nextPageToken: string }> {
  const size = pageSizeOf(o.pageSize);
  const query = ["models", project, o.tag];
  const after = decodePageToken(o.pageToken, query);
  const { rows } = await pool.query<ModelRow>(
    `${MODEL_SELECT}
     WHERE m.project = $1 AND ($2 = '' OR $2 = ANY (m.tags)) AND ($3::text IS NULL OR m.name > $3)
     ORDER BY m.name LIMIT $4`,
    [project, o.tag, after?.[0] ?? null, size + 1],
  );
  const page = pageOf(rows, size, query, (r) => [r.name]);
  return { items: page.items.map(toModel), nextPageToken: page.nextPageToken };
}

const MUTABLE_MODEL_FIELDS = ["description", "tags"] as const;

/** Changes description and tags (all of them without a mask). A stale etag is ABORTED. */
export async function updateModel(pool: Pool, patch: Model, paths: readonly string[]): Promise<Model> {
  const fields = paths.length === 0 ? MUTABLE_MODEL_FIELDS : paths;
  for (const path of fields) {
    if (!(MUTABLE_MODEL_FIELDS as readonly string[]).includes(path)) {
      throw new InvalidArgumentError(
        `update_mask: "${path}" cannot be updated; a model's ${MUTABLE_MODEL_FIELDS.join(" and ")} can (aliases change with SetAlias and DeleteAlias)`,
        { field: "update_mask" },
      );
    }
  }
  return withTransaction(pool, async (client) => {
    const locked = await lockModel(client, patch.project, patch.name);
    checkEtag(patch.etag, locked.revision, modelLabel(patch.project, patch.name));
    await client.query(
      `UPDATE models SET description = CASE WHEN $2 THEN $3 ELSE description END, tags = CASE WHEN $4 THEN $5::text[] ELSE tags END,
         revision = revision + 1, update_time = now() WHERE id = $1`,
      [locked.id, fields.includes("description"), patch.description, fields.includes("tags"), patch.tags],
    );
    return readModel(client, patch.project, patch.name);
  });
}

/** Deletes a model that has no versions left; answers its id (the metadata record names it). */
export async function deleteModel(pool: Pool, project: string, name: string, etag: string): Promise<string> {
  return withTransaction(pool, async (client) => {
    const locked = await lockModel(client, project, name);
    checkEtag(etag, locked.revision, modelLabel(project, name));
    const { rows } = await client.query<{ version: number }>("SELECT version FROM model_versions WHERE model_id = $1 ORDER BY version LIMIT 6", [locked.id]);
    if (rows.length > 0) {
      const listed =
        rows
          .slice(0, 5)
          .map((r) => r.version)
          .join(", ") + (rows.length > 5 ? ", …" : "");
      throw new FailedPreconditionError(`${modelLabel(project, name)} still has versions (${listed}); delete them first`);
    }
    await client.query("DELETE FROM models WHERE id = $1", [locked.id]);
    return String(locked.id);
  });
}

/** Every model's project, name and id, for the reconciliation of metadata records. */
export async function allModels(client: PoolClient): Promise<{ project: string; name: string; id: string }[]> {
  const { rows } = await client.query<{ project: string; name: string; id: string }>("SELECT project, name, id::text AS id FROM models ORDER BY project, name");
  return rows;
}

/**
 * The model's row, locked until the transaction ends. Every writer takes this lock first, so
 * writers of one model are serialised and never deadlock over its versions and aliases.
 */
export async function lockModel(client: PoolClient, project: string, name: string): Promise<{ id: string; revision: string }> {
  const { rows } = await client.query<{ id: string; revision: string }>("SELECT id, revision FROM models WHERE project = $1 AND name = $2 FOR UPDATE", [
    project,
    name,
  ]);
  if (!rows[0]) throw new NotFoundError(`${modelLabel(project, name)} does not exist`);
  return rows[0];
}

/** Records that what GetModel returns changed (aliases, latest version). */
export async function touchModel(client: PoolClient, id: string): Promise<void> {
  await client.query("UPDATE models SET revision = revision + 1, update_time = now() WHERE id = $1", [id]);
}

export function checkEtag(given: string, current: string, label: string): void {
  if (given !== "" && given !== current) throw new AbortedError(`${label} was changed by someone else (stale etag); read it again and retry`);
}

async function readModel(db: Pool | PoolClient, project: string, name: string): Promise<Model> {
  const { rows } = await db.query<ModelRow>(`${MODEL_SELECT} WHERE m.project = $1 AND m.name = $2`, [project, name]);
  if (!rows[0]) throw new NotFoundError(`${modelLabel(project, name)} does not exist`);
  return toModel(rows[0]);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
