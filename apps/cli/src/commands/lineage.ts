import { LineageDirection, LineageNodeKind, type LineageEdge, type LineageNode } from "@granary/proto/metadata";
import { UsageError } from "../cli-error.js";
import type { CommandContext } from "../context.js";
import { toJson } from "../output.js";
import { findKind, parseThing, type ThingKind } from "./describe.js";

export interface LineageOptions {
  readonly format?: string;
}

const ORDER = [LineageNodeKind.FEATURE_GROUP, LineageNodeKind.FEATURE_VIEW, LineageNodeKind.TRAINING_DATASET, LineageNodeKind.MODEL_VERSION] as const;

const KIND_TEXT: Record<number, string> = {
  [LineageNodeKind.FEATURE_GROUP]: "feature group",
  [LineageNodeKind.FEATURE_VIEW]: "feature view",
  [LineageNodeKind.TRAINING_DATASET]: "training dataset",
  [LineageNodeKind.MODEL_VERSION]: "model",
};

/** "feature group customers v1", "training dataset 2 of fraud_features v1". */
export function nodeText(n: LineageNode): string {
  if (n.kind === LineageNodeKind.TRAINING_DATASET) return `training dataset ${n.datasetVersion} of ${n.name} v${n.version}`;
  return `${KIND_TEXT[n.kind] ?? "?"} ${n.name} v${n.version}`;
}

const nodeKey = (n: LineageNode) => `${n.kind}/${n.name}/${n.version}/${n.datasetVersion}`;
const rank = (n: LineageNode) => ORDER.indexOf(n.kind as (typeof ORDER)[number]);
const byFlow = (a: LineageNode, b: LineageNode) =>
  rank(a) - rank(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) || a.version - b.version || a.datasetVersion - b.datasetVersion;

/** The edges as a Mermaid flowchart, left to right (groups → views → training datasets → models). */
export function mermaid(nodes: readonly LineageNode[], edges: readonly LineageEdge[], focus: LineageNode): string {
  const ids = new Map<string, string>();
  const id = (n: LineageNode) => {
    const key = nodeKey(n);
    if (!ids.has(key)) ids.set(key, `n${ids.size}`);
    return ids.get(key)!;
  };
  const lines = ["flowchart LR"];
  for (const n of [...nodes].sort(byFlow)) lines.push(`  ${id(n)}["${nodeText(n)}"]`);
  for (const e of edges) lines.push(`  ${id(e.from!)} --> ${id(e.to!)}`);
  lines.push(`  style ${id(focus)} stroke-width:3px`);
  return lines.join("\n");
}

const LINEAGE_KIND: Record<ThingKind, LineageNodeKind> = {
  group: LineageNodeKind.FEATURE_GROUP,
  view: LineageNodeKind.FEATURE_VIEW,
  model: LineageNodeKind.MODEL_VERSION,
};

/** `granary lineage [group|view|model] <name[:version]> [--format text|mermaid]`: what it was made from and what was made from it. */
export async function lineageCommand(ctx: CommandContext, first: string, second: string | undefined, options: LineageOptions): Promise<void> {
  const format = options.format ?? "text";
  if (format !== "text" && format !== "mermaid") throw new UsageError(`--format ${format}: use text or mermaid`);
  const { kind: given, ref } = parseThing(first, second);
  const project = await ctx.project();
  const kind = given ?? (await findKind(project, ref));
  // Lineage is recorded per version: a bare name means the latest.
  let version = ref.version;
  if (version === 0) {
    if (kind === "group") version = (await project.getFeatureGroup(ref.name)).version;
    else if (kind === "view") version = (await project.getFeatureView(ref.name)).version;
    else version = (await project.modelRegistry.getModel(ref.name)).version;
  }
  const focus: LineageNode = { $typeName: "granary.metadata.v1.LineageNode", kind: LINEAGE_KIND[kind], name: ref.name, version, datasetVersion: 0 };
  const { metadata, unary } = ctx.granary.services;
  const res = await metadata.getLineage({ project: project.name, node: focus, direction: LineageDirection.BOTH, depth: 0 }, unary());
  const edges = [...res.edges].filter((e) => e.from && e.to).sort((a, b) => byFlow(a.from!, b.from!) || byFlow(a.to!, b.to!));
  const nodes = res.nodes.some((n) => nodeKey(n) === nodeKey(focus)) ? res.nodes : [focus, ...res.nodes];
  if (ctx.json) {
    const node = (n: LineageNode) => ({
      kind: (KIND_TEXT[n.kind] ?? "").replace(/ /g, "_"),
      name: n.name,
      version: n.version,
      ...(n.kind === LineageNodeKind.TRAINING_DATASET ? { training_dataset: n.datasetVersion } : {}),
    });
    ctx.output.out(
      toJson({ node: node(focus), nodes: [...nodes].sort(byFlow).map(node), edges: edges.map((e) => ({ from: node(e.from!), to: node(e.to!) })) }),
    );
    return;
  }
  if (format === "mermaid") {
    ctx.output.out(mermaid(nodes, edges, focus));
    return;
  }
  if (edges.length === 0) {
    ctx.output.out(`${nodeText(focus)}: no lineage recorded (nothing it reads from or that was made from it)`);
    return;
  }
  ctx.output.out([`lineage of ${nodeText(focus)}:`, ...edges.map((e) => `  ${nodeText(e.from!)} → ${nodeText(e.to!)}`)].join("\n"));
}
