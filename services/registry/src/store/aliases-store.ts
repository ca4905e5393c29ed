import type { Pool } from "pg";
import { withTransaction } from "@granary/postgres";
import { FailedPreconditionError, NotFoundError } from "@granary/errors";
import type { Model } from "@granary/proto/registry";
import { getModel, lockModel, modelLabel, touchModel } from "./models-store.js";
import { versionLabel } from "./versions-store.js";

/**
 * Points an alias at a READY version. One transaction under the model's lock: concurrent moves of
 * the same alias are applied one after the other, and every reader sees the alias at one version
 * or the next, never none. Returns the model with its aliases after the move.
 */
export async function setAlias(pool: Pool, project: string, model: string, alias: string, version: number): Promise<Model> {
  return withTransaction(pool, async (client) => {
    const locked = await lockModel(client, project, model);
    const { rows } = await client.query<{ status: string }>("SELECT status FROM model_versions WHERE model_id = $1 AND version = $2 FOR SHARE", [
      locked.id,
      version,
    ]);
    if (!rows[0]) throw new FailedPreconditionError(`${versionLabel(project, model, version)} does not exist; an alias points at an existing, READY version`);
    if (rows[0].status !== "READY")
      throw new FailedPreconditionError(`${versionLabel(project, model, version)} is still UPLOADING; finalize it before pointing alias "${alias}" at it`);
    const { rows: previous } = await client.query<{ version: number }>(
      `WITH old AS (SELECT version FROM aliases WHERE model_id = $1 AND alias = $2)
       INSERT INTO aliases AS a (model_id, alias, version) VALUES ($1, $2, $3)
       ON CONFLICT (model_id, alias) DO UPDATE SET version = EXCLUDED.version
       RETURNING (SELECT version FROM old)`,
      [locked.id, alias, version],
    );
    const before = previous[0]?.version ?? null;
    if (before !== version) {
      // Both versions' alias lists changed, and so did the model's map.
      await client.query("UPDATE model_versions SET revision = revision + 1, update_time = now() WHERE model_id = $1 AND version = ANY ($2::int[])", [
        locked.id,
        before === null ? [version] : [before, version],
      ]);
      await touchModel(client, locked.id);
    }
    return getModel(client, project, model);
  });
}

export async function deleteAlias(pool: Pool, project: string, model: string, alias: string): Promise<Model> {
  return withTransaction(pool, async (client) => {
    const locked = await lockModel(client, project, model);
    const { rows } = await client.query<{ version: number }>("DELETE FROM aliases WHERE model_id = $1 AND alias = $2 RETURNING version", [locked.id, alias]);
    if (!rows[0]) throw new NotFoundError(`${modelLabel(project, model)} has no alias "${alias}"`);
    await client.query("UPDATE model_versions SET revision = revision + 1, update_time = now() WHERE model_id = $1 AND version = $2", [
      locked.id,
      rows[0].version,
    ]);
    await touchModel(client, locked.id);
    return getModel(client, project, model);
  });
}
