import { clone, create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Pool } from "pg";
import { FailedPreconditionError, NotFoundError } from "@granary/errors";
import { ChangeKind, LineageEdgeSchema, LineageNodeKind, TrainingDatasetSchema, TrainingDatasetStatus, type TrainingDataset } from "@granary/proto/metadata";
import type { FeatureViewRef } from "@granary/proto/types";
import { decodePageToken, pageOf, pageSizeOf } from "@granary/server";
import { inCatalogueTransaction, type CatalogueTx } from "./catalogue-transaction.js";
import { requireView, viewId } from "./feature-views-store.js";
import { fromRow, toRow } from "./json-resource.js";
import { addEdge, lineageNode, nodeKey, removeEdgesOf } from "./lineage-store.js";
import { staleEtag } from "./projects-store.js";

const label = (view: FeatureViewRef | undefined, version: number) => `training dataset ${version} of feature view "${view?.name}" version ${view?.version}`;

/** Records a dataset of a view; its version is the next one for that view version. */
export async function createTrainingDataset(pool: Pool, td: TrainingDataset): Promise<TrainingDataset> {
  return inCatalogueTransaction(pool, async (tx) => {
    const ref = td.featureView!;
    const view = await requireView(tx, td.project, ref.name, ref.version);
    const { rows } = await tx.client.query<{ v: number | null }>("SELECT max(version) AS v FROM training_datasets WHERE view_id = $1", [view.id.toString()]);
    const stored = clone(TrainingDatasetSchema, td);
    stored.version = (rows[0]?.v ?? 0) + 1;
    if (stored.status === TrainingDatasetStatus.UNSPECIFIED) stored.status = TrainingDatasetStatus.CREATING;
    stored.createTime = timestampFromDate(tx.now);
    stored.updateTime = stored.createTime;
    stored.etag = await tx.recordChange({ kind: ChangeKind.CREATED, project: td.project, resource: { case: "trainingDataset", value: stored } });
    await tx.client.query("INSERT INTO training_datasets (view_id, version, resource, etag) VALUES ($1, $2, $3, $4)", [
      view.id.toString(),
      stored.version,
      toRow(TrainingDatasetSchema, stored),
      stored.etag,
    ]);
    const from = lineageNode(LineageNodeKind.FEATURE_VIEW, ref.name, ref.version);
    const to = lineageNode(LineageNodeKind.TRAINING_DATASET, ref.name, ref.version, stored.version);
    await addEdge(tx, td.project, create(LineageEdgeSchema, { from, to }));
    return stored;
  });
}

/** Version 0 means the latest. */
export async function getTrainingDataset(pool: Pool, project: string, view: FeatureViewRef, version: number): Promise<TrainingDataset> {
  const id = await viewId({ client: pool }, project, view.name, view.version);
  const { rows } = await pool.query<{ resource: unknown }>(
    "SELECT resource FROM training_datasets WHERE view_id = $1 AND ($2 = 0 OR version = $2) ORDER BY version DESC LIMIT 1",
    [id, version],
  );
  if (!rows[0])
    throw new NotFoundError(
      version === 0 ? `feature view "${view.name}" version ${view.version} has no training dataset yet` : `${label(view, version)} does not exist`,
    );
  return fromRow(TrainingDatasetSchema, rows[0].resource);
}

export async function listTrainingDatasets(
  pool: Pool,
  project: string,
  view: FeatureViewRef,
  pageSize: number,
  pageToken: string,
): Promise<{ items: TrainingDataset[]; nextPageToken: string }> {
  const id = await viewId({ client: pool }, project, view.name, view.version);
  const size = pageSizeOf(pageSize);
  const query = ["training_datasets", project, view.name, view.version];
  const after = decodePageToken(pageToken, query);
  const { rows } = await pool.query<{ version: number; resource: unknown }>(
    "SELECT version, resource FROM training_datasets WHERE view_id = $1 AND version > $2 ORDER BY version LIMIT $3",
    [id, after?.[0] ?? 0, size + 1],
  );
  const page = pageOf(rows, size, query, (r) => [r.version]);
  return { items: page.items.map((r) => fromRow(TrainingDatasetSchema, r.resource)), nextPageToken: page.nextPageToken };
}

/** What the offline service fills in as it materialises a dataset; the definition stays. */
const MUTABLE = ["status", "status_message", "watermarks", "statistics", "files", "row_count", "description", "tags"] as const;

export async function updateTrainingDataset(pool: Pool, patch: TrainingDataset, paths: readonly string[]): Promise<TrainingDataset> {
  return inCatalogueTransaction(pool, async (tx) => {
    const { id, current } = await requireDataset(tx, patch.project, patch.featureView!, patch.version);
    if (patch.etag !== "" && patch.etag !== current.etag)
      throw staleEtag("training dataset", `${patch.featureView?.name} v${patch.featureView?.version}/${patch.version}`);
    const mutable: readonly string[] = MUTABLE;
    const immutable = paths.filter((p) => !mutable.includes(p));
    if (immutable.length > 0) throw new FailedPreconditionError(`${immutable.join(", ")} of a training dataset cannot change; create a new dataset version`);
    const next = clone(TrainingDatasetSchema, current);
    for (const path of paths.length > 0 ? paths : MUTABLE) {
      switch (path) {
        case "status":
          next.status = patch.status;
          break;
        case "status_message":
          next.statusMessage = patch.statusMessage;
          break;
        case "watermarks":
          next.watermarks = patch.watermarks;
          break;
        case "statistics":
          next.statistics = patch.statistics;
          break;
        case "files":
          next.files = patch.files;
          break;
        case "row_count":
          next.rowCount = patch.rowCount;
          break;
        case "description":
          next.description = patch.description;
          break;
        case "tags":
          next.tags = patch.tags;
          break;
      }
    }
    next.updateTime = timestampFromDate(tx.now);
    next.etag = await tx.recordChange({ kind: ChangeKind.UPDATED, project: next.project, resource: { case: "trainingDataset", value: next } });
    await tx.client.query("UPDATE training_datasets SET resource = $3, etag = $4 WHERE view_id = $1 AND version = $2", [
      id,
      next.version,
      toRow(TrainingDatasetSchema, next),
      next.etag,
    ]);
    return next;
  });
}

export async function deleteTrainingDataset(pool: Pool, project: string, view: FeatureViewRef, version: number, etag: string): Promise<void> {
  await inCatalogueTransaction(pool, async (tx) => {
    const { id, current } = await requireDataset(tx, project, view, version);
    if (etag !== "" && etag !== current.etag) throw staleEtag("training dataset", `${view.name} v${view.version}/${version}`);
    const node = lineageNode(LineageNodeKind.TRAINING_DATASET, view.name, view.version, version);
    const { rows } = await tx.client.query<{ edge: { to?: { name?: string; version?: number } } }>(
      "SELECT edge FROM lineage_edges WHERE project = $1 AND from_node = $2 LIMIT 3",
      [project, nodeKey(node)],
    );
    if (rows.length > 0) {
      const models = rows.map((r) => `${r.edge.to?.name ?? "?"} v${r.edge.to?.version ?? "?"}`).join(", ");
      throw new FailedPreconditionError(`${label(view, version)} trained model ${models}; delete those model versions first`);
    }
    await removeEdgesOf(tx, project, node);
    await tx.client.query("DELETE FROM statistics WHERE project = $1 AND subject = $2", [project, `dataset/${view.name}/${view.version}/${version}`]);
    await tx.client.query("DELETE FROM training_datasets WHERE view_id = $1 AND version = $2", [id, version]);
    await tx.recordChange({ kind: ChangeKind.DELETED, project, resource: { case: "trainingDataset", value: current } });
  });
}

async function requireDataset(tx: CatalogueTx, project: string, view: FeatureViewRef, version: number): Promise<{ id: string; current: TrainingDataset }> {
  const id = await viewId(tx, project, view.name, view.version);
  const { rows } = await tx.client.query<{ resource: unknown }>("SELECT resource FROM training_datasets WHERE view_id = $1 AND version = $2 FOR UPDATE", [
    id,
    version,
  ]);
  if (!rows[0]) throw new NotFoundError(`${label(view, version)} does not exist`);
  return { id, current: fromRow(TrainingDatasetSchema, rows[0].resource) };
}
