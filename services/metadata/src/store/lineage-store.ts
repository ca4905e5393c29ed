import { create } from "@bufbuild/protobuf";
import type { Pool } from "pg";
import { InvalidArgumentError } from "@granary/errors";
import { LineageDirection, LineageEdgeSchema, LineageNodeKind, LineageNodeSchema, type LineageEdge, type LineageNode } from "@granary/proto/metadata";
import { inCatalogueTransaction, type CatalogueTx } from "./catalogue-transaction.js";
import { lockProject } from "./projects-store.js";
import { fromRow, toRow } from "./json-resource.js";

/** A node as a key: kind/name/version/dataset_version. */
export function nodeKey(node: LineageNode): string {
  return `${LineageNodeKind[node.kind]}/${node.name}/${node.version}/${node.datasetVersion}`;
}

export function lineageNode(kind: LineageNodeKind, name: string, version: number, datasetVersion = 0): LineageNode {
  return create(LineageNodeSchema, { kind, name, version, datasetVersion });
}

/** The edges the graph allows: group → view → dataset → model version. */
const ALLOWED: ReadonlyMap<LineageNodeKind, LineageNodeKind> = new Map([
  [LineageNodeKind.FEATURE_GROUP, LineageNodeKind.FEATURE_VIEW],
  [LineageNodeKind.FEATURE_VIEW, LineageNodeKind.TRAINING_DATASET],
  [LineageNodeKind.TRAINING_DATASET, LineageNodeKind.MODEL_VERSION],
]);

export function validateEdge(edge: LineageEdge): void {
  const { from, to } = edge;
  if (!from || !to) throw new InvalidArgumentError("edge needs both from and to", { field: "edge" });
  for (const [side, node] of [
    ["from", from],
    ["to", to],
  ] as const) {
    if (node.kind === LineageNodeKind.UNSPECIFIED) throw new InvalidArgumentError(`edge.${side}.kind is required`, { field: `edge.${side}.kind` });
    if (!/^[a-z][a-z0-9_]{0,62}$/.test(node.name)) throw new InvalidArgumentError(`edge.${side}.name must be an identifier`, { field: `edge.${side}.name` });
    if (node.version < 1) throw new InvalidArgumentError(`edge.${side}.version must be 1 or more`, { field: `edge.${side}.version` });
    if ((node.kind === LineageNodeKind.TRAINING_DATASET) !== node.datasetVersion > 0) {
      throw new InvalidArgumentError(`edge.${side}.dataset_version is set for training datasets, and only for them`, { field: `edge.${side}.dataset_version` });
    }
  }
  if (ALLOWED.get(from.kind) !== to.kind) {
    throw new InvalidArgumentError(
      `lineage goes feature group → feature view → training dataset → model version; ${LineageNodeKind[from.kind]} → ${LineageNodeKind[to.kind]} is not an edge`,
      { field: "edge" },
    );
  }
}

export async function addEdge(tx: CatalogueTx, project: string, edge: LineageEdge): Promise<void> {
  if (!edge.from || !edge.to) return;
  await tx.client.query(
    `INSERT INTO lineage_edges (project, from_node, to_node, edge) VALUES ($1, $2, $3, $4)
     ON CONFLICT DO NOTHING`,
    [project, nodeKey(edge.from), nodeKey(edge.to), toRow(LineageEdgeSchema, edge)],
  );
}

export async function removeEdgesOf(tx: CatalogueTx, project: string, node: LineageNode): Promise<void> {
  const key = nodeKey(node);
  await tx.client.query("DELETE FROM lineage_edges WHERE project = $1 AND (from_node = $2 OR to_node = $2)", [project, key]);
}

/** Nodes and edges reachable from `node` in a direction, up to `depth` edges away (0: all). */
export async function getLineage(
  pool: Pool,
  project: string,
  node: LineageNode,
  direction: LineageDirection,
  depth: number,
): Promise<{ nodes: LineageNode[]; edges: LineageEdge[] }> {
  const directions = direction === LineageDirection.UPSTREAM ? ["up"] : direction === LineageDirection.DOWNSTREAM ? ["down"] : ["up", "down"];
  const edges = new Map<string, LineageEdge>();
  const nodes = new Map<string, LineageNode>([[nodeKey(node), node]]);
  for (const dir of directions) {
    const { rows } = await pool.query<{ edge: unknown }>(
      `WITH RECURSIVE walk(node, depth) AS (
         SELECT $2::text, 0
         UNION
         SELECT CASE WHEN $3 = 'down' THEN e.to_node ELSE e.from_node END, w.depth + 1
         FROM walk w JOIN lineage_edges e
           ON e.project = $1 AND (CASE WHEN $3 = 'down' THEN e.from_node ELSE e.to_node END) = w.node
         WHERE $4 = 0 OR w.depth < $4
       )
       SELECT DISTINCT e.edge FROM walk w JOIN lineage_edges e
         ON e.project = $1 AND (CASE WHEN $3 = 'down' THEN e.from_node ELSE e.to_node END) = w.node
       WHERE $4 = 0 OR w.depth < $4`,
      [project, nodeKey(node), dir, depth],
    );
    for (const row of rows) {
      const edge = fromRow(LineageEdgeSchema, row.edge);
      if (!edge.from || !edge.to) continue;
      edges.set(`${nodeKey(edge.from)}>${nodeKey(edge.to)}`, edge);
      nodes.set(nodeKey(edge.from), edge.from);
      nodes.set(nodeKey(edge.to), edge.to);
    }
  }
  return { nodes: [...nodes.values()], edges: [...edges.values()] };
}

/** Records an edge from another service (the registry: dataset → model version). */
export async function createEdge(pool: Pool, project: string, edge: LineageEdge): Promise<void> {
  await inCatalogueTransaction(pool, async (tx) => {
    await lockProject(tx, project);
    await addEdge(tx, project, edge);
  });
}

/** Releases the lineage edges of a model version the registry deleted (training dataset → it). */
export async function releaseModelVersion(pool: Pool, project: string, model: string, version: number): Promise<void> {
  await pool.query("DELETE FROM lineage_edges WHERE project = $1 AND to_node = $2", [
    project,
    nodeKey(lineageNode(LineageNodeKind.MODEL_VERSION, model, version)),
  ]);
}
