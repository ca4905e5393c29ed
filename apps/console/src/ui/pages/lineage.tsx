import type { JSX } from "preact";
import { LineageDirection, LineageNodeKind, type GetLineageResponse, type LineageNode } from "@granary/proto/metadata";
import { api } from "../api";
import { Async, EmptyState } from "../components";
import { Graph, type GraphEdge, type GraphNode } from "../graph";
import { href, Link } from "../router";
import { allPages, useCall } from "../use-call";

/** URL names of the node kinds (also each node's data-kind). */
const KIND_NAME: Record<number, "group" | "view" | "dataset" | "model"> = {
  [LineageNodeKind.FEATURE_GROUP]: "group",
  [LineageNodeKind.FEATURE_VIEW]: "view",
  [LineageNodeKind.TRAINING_DATASET]: "dataset",
  [LineageNodeKind.MODEL_VERSION]: "model",
};
const KIND_OF: Record<string, LineageNodeKind> = {
  group: LineageNodeKind.FEATURE_GROUP,
  view: LineageNodeKind.FEATURE_VIEW,
  dataset: LineageNodeKind.TRAINING_DATASET,
  model: LineageNodeKind.MODEL_VERSION,
};
const KIND_LABEL: Record<string, string> = { group: "feature group", view: "feature view", dataset: "training dataset", model: "model" };

export interface LineageFocus {
  readonly kind: string;
  readonly name: string;
  readonly version: number;
  readonly datasetVersion: number;
}

function nodeId(n: { kind: LineageNodeKind; name: string; version: number; datasetVersion: number }): string {
  return `${n.kind}:${n.name}:${n.version}:${n.datasetVersion}`;
}

function pageOf(project: string, n: LineageNode): string {
  switch (n.kind) {
    case LineageNodeKind.FEATURE_GROUP:
      return href("projects", project, "groups", n.name, n.version);
    case LineageNodeKind.FEATURE_VIEW:
      return href("projects", project, "views", n.name, n.version);
    case LineageNodeKind.TRAINING_DATASET:
      return href("projects", project, "datasets", n.name, n.version, n.datasetVersion);
    case LineageNodeKind.MODEL_VERSION:
      return `${href("projects", project, "models", n.name)}?version=${n.version}`;
    default:
      return href("projects", project);
  }
}

/**
 * Feature groups → views → training datasets → models. With a focus, the graph around that node
 * (both directions); without, everything downstream of the project's feature groups.
 */
export function LineagePage({ project, focus }: { project: string; focus?: LineageFocus }): JSX.Element {
  const focusKind = focus ? KIND_OF[focus.kind] : undefined;
  const [state, retry] = useCall(
    async (signal): Promise<GetLineageResponse[]> => {
      if (focus) {
        if (focusKind === undefined) throw new Error(`unknown kind "${focus.kind}": use group, view, dataset or model`);
        return [
          await api.metadata.getLineage(
            {
              project,
              node: { kind: focusKind, name: focus.name, version: focus.version, datasetVersion: focus.datasetVersion },
              direction: LineageDirection.BOTH,
              depth: 0,
            },
            { signal },
          ),
        ];
      }
      const groups = await allPages(async (pageToken) => {
        const r = await api.metadata.listFeatureGroups({ project, pageSize: 500, pageToken }, { signal });
        return { items: r.featureGroups, next: r.nextPageToken };
      });
      return Promise.all(
        groups.map((g) =>
          api.metadata.getLineage(
            { project, node: { kind: LineageNodeKind.FEATURE_GROUP, name: g.name, version: g.version }, direction: LineageDirection.DOWNSTREAM, depth: 0 },
            { signal },
          ),
        ),
      );
    },
    [project, focus?.kind, focus?.name, focus?.version, focus?.datasetVersion],
  );
  const focusId =
    focus && focusKind !== undefined ? nodeId({ kind: focusKind, name: focus.name, version: focus.version, datasetVersion: focus.datasetVersion }) : undefined;
  return (
    <div class="page">
      <h1>Lineage</h1>
      <p class="muted">
        {focus ? (
          <>
            around {KIND_LABEL[focus.kind] ?? focus.kind} <strong>{focus.name}</strong> v{focus.version}
            {focus.kind === "dataset" ? ` / dataset ${focus.datasetVersion}` : ""} · <Link href={href("projects", project, "lineage")}>whole project</Link>
          </>
        ) : (
          <>
            of project <Link href={href("projects", project)}>{project}</Link>: feature groups → feature views → training datasets → models. Click a node to
            open it.
          </>
        )}
      </p>
      <Async state={state} retry={retry} what="lineage">
        {(responses) => {
          const nodes = new Map<string, LineageNode>();
          const edges = new Map<string, GraphEdge>();
          for (const r of responses) {
            for (const n of r.nodes) nodes.set(nodeId(n), n);
            for (const e of r.edges) {
              if (!e.from || !e.to) continue;
              nodes.set(nodeId(e.from), e.from);
              nodes.set(nodeId(e.to), e.to);
              edges.set(`${nodeId(e.from)}>${nodeId(e.to)}`, { from: nodeId(e.from), to: nodeId(e.to) });
            }
          }
          if (edges.size === 0)
            return (
              <EmptyState>
                {focus
                  ? "Nothing is linked to this yet: views built on it, datasets made from it and models trained on it show up here."
                  : "No lineage yet: create a feature view over a feature group to start the graph."}
              </EmptyState>
            );
          const graphNodes: GraphNode[] = [...nodes.entries()].map(([id, n]) => {
            const kind = KIND_NAME[n.kind] ?? "group";
            const title = kind === "dataset" ? `${n.name} v${n.version} · ds ${n.datasetVersion}` : `${n.name} v${n.version}`;
            return {
              id,
              kind,
              lines: [title, KIND_LABEL[kind] ?? kind],
              href: pageOf(project, n),
              highlight: id === focusId,
              attrs: { "data-testid": "lineage-node", "data-kind": kind, "data-name": n.name, "data-version": String(n.version) },
            };
          });
          return (
            <>
              <Graph nodes={graphNodes} edges={[...edges.values()]} testid="lineage-graph" label="lineage graph" />
              <p class="legend small">
                <span class="swatch node-group" /> feature group <span class="swatch node-view" /> feature view <span class="swatch node-dataset" /> training
                dataset <span class="swatch node-model" /> model version
              </p>
            </>
          );
        }}
      </Async>
    </div>
  );
}
