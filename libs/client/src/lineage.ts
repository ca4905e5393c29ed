// The lineage graph (group → view → training dataset → model version) as plain objects.
import { LineageDirection, LineageNodeKind, type LineageNode as LineageNodeMessage } from "@granary/proto/metadata";
import type { Services } from "./services.js";

export type LineageKind = "featureGroup" | "featureView" | "trainingDataset" | "modelVersion";

/** A versioned resource in the graph; a training dataset is named by its view, with `datasetVersion`. */
export interface LineageNode {
  readonly kind: LineageKind;
  readonly name: string;
  readonly version: number;
  /** Training datasets only. */
  readonly datasetVersion?: number;
}

/** `from` was used to build `to`. */
export interface LineageEdge {
  readonly from: LineageNode;
  readonly to: LineageNode;
}

export interface LineageGraph {
  /** The node asked about first, then every node reached. */
  readonly nodes: LineageNode[];
  readonly edges: LineageEdge[];
}

export interface LineageOptions {
  /** "upstream": what it was built from; "downstream": what was built from it ("which models use this group?"); default both. */
  readonly direction?: "upstream" | "downstream" | "both";
  /** How many edges away to follow (default: all). */
  readonly depth?: number;
  readonly signal?: AbortSignal;
}

const KINDS: Record<LineageKind, LineageNodeKind> = {
  featureGroup: LineageNodeKind.FEATURE_GROUP,
  featureView: LineageNodeKind.FEATURE_VIEW,
  trainingDataset: LineageNodeKind.TRAINING_DATASET,
  modelVersion: LineageNodeKind.MODEL_VERSION,
};
const DIRECTIONS = { upstream: LineageDirection.UPSTREAM, downstream: LineageDirection.DOWNSTREAM, both: LineageDirection.BOTH } as const;

export function lineageNodeOf(message: LineageNodeMessage): LineageNode {
  const kind = (Object.keys(KINDS) as LineageKind[]).find((k) => KINDS[k] === message.kind);
  if (!kind) throw new TypeError(`lineage node of unknown kind ${message.kind}`);
  const node = { kind, name: message.name, version: message.version };
  return kind === "trainingDataset" ? { ...node, datasetVersion: message.datasetVersion } : node;
}

/** The lineage around a node, as the metadata service records it. */
export async function getLineage(services: Services, project: string, node: LineageNode, options: LineageOptions = {}): Promise<LineageGraph> {
  const depth = options.depth ?? 0;
  if (!Number.isInteger(depth) || depth < 0) throw new RangeError(`depth must be a whole number of edges (0: all), got ${depth}`);
  const res = await services.metadata.getLineage(
    {
      project,
      node: { kind: KINDS[node.kind], name: node.name, version: node.version, datasetVersion: node.datasetVersion ?? 0 },
      direction: DIRECTIONS[options.direction ?? "both"],
      depth,
    },
    services.unary(options.signal),
  );
  return {
    nodes: res.nodes.map(lineageNodeOf),
    edges: res.edges.filter((e) => e.from && e.to).map((e) => ({ from: lineageNodeOf(e.from!), to: lineageNodeOf(e.to!) })),
  };
}
