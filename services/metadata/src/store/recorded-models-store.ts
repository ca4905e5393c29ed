import { create } from "@bufbuild/protobuf";
import type { Pool } from "pg";
import { RecordedModelSchema, type RecordedModel } from "@granary/proto/metadata";
import { decodePageToken, pageOf, pageSizeOf } from "@granary/server";
import { inCatalogueTransaction } from "./catalogue-transaction.js";
import { lockProject } from "./projects-store.js";

/**
 * Records a model the registry holds. It takes the catalogue's write lock and the project's row,
 * as DeleteProject does, so a record and a deletion of its project never pass each other.
 */
export async function recordModel(pool: Pool, project: string, model: string, registryId: string): Promise<void> {
  await inCatalogueTransaction(pool, async (tx) => {
    await lockProject(tx, project);
    await tx.client.query(
      `INSERT INTO recorded_models (project, model, registry_id, record_time) VALUES ($1, $2, $3, $4)
       ON CONFLICT (project, model) DO UPDATE SET registry_id = EXCLUDED.registry_id, record_time = EXCLUDED.record_time`,
      [project, model, registryId, tx.now],
    );
  });
}

/** Forgets a deleted model, unless its record now names another incarnation. Idempotent. */
export async function forgetModel(pool: Pool, project: string, model: string, registryId: string): Promise<void> {
  await pool.query("DELETE FROM recorded_models WHERE project = $1 AND model = $2 AND registry_id = $3", [project, model, registryId]);
}

export async function listRecordedModels(pool: Pool, pageSize: number, pageToken: string): Promise<{ items: RecordedModel[]; nextPageToken: string }> {
  const size = pageSizeOf(pageSize);
  const query = ["recorded_models"];
  const after = decodePageToken(pageToken, query);
  const { rows } = await pool.query<{ project: string; model: string; registry_id: string }>(
    `SELECT project, model, registry_id FROM recorded_models
     WHERE $1::text IS NULL OR (project, model) > ($1::text, $2::text) ORDER BY project, model LIMIT $3`,
    [after?.[0] ?? null, after?.[1] ?? null, size + 1],
  );
  const page = pageOf(rows, size, query, (r) => [r.project, r.model]);
  return {
    items: page.items.map((r) => create(RecordedModelSchema, { project: r.project, model: r.model, registryId: r.registry_id })),
    nextPageToken: page.nextPageToken,
  };
}
