import dagre from "@dagrejs/dagre";
import type { JSX } from "preact";
import { useMemo } from "preact/hooks";
import { navigate } from "./router";

export interface GraphNode {
  readonly id: string;
  /** First line bold, the rest smaller. */
  readonly lines: readonly string[];
  readonly kind: string;
  readonly href?: string;
  readonly highlight?: boolean;
  /** Extra attributes on the node's <g> (test ids, data-*). */
  readonly attrs?: Readonly<Record<string, string>>;
}

export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  readonly label?: string;
}

const CHAR = 7.2;
const LINE = 16;
const PAD = 12;

interface Laid {
  readonly width: number;
  readonly height: number;
  readonly nodes: readonly (GraphNode & { x: number; y: number; w: number; h: number })[];
  readonly edges: readonly (GraphEdge & { points: readonly { x: number; y: number }[]; lx?: number; ly?: number })[];
}

function layout(nodes: readonly GraphNode[], edges: readonly GraphEdge[], rankdir: "LR" | "TB"): Laid {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir, nodesep: 28, ranksep: 70, edgesep: 16, marginx: 8, marginy: 8 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) {
    const w = Math.max(...n.lines.map((l) => l.length)) * CHAR + 2 * PAD;
    g.setNode(n.id, { width: Math.max(90, w), height: n.lines.length * LINE + 2 * PAD - 4 });
  }
  for (const e of edges)
    if (g.hasNode(e.from) && g.hasNode(e.to))
      g.setEdge(e.from, e.to, e.label ? { label: e.label, width: e.label.length * 6.4, height: 14, labelpos: "c" } : {});
  dagre.layout(g);
  const graph = g.graph();
  return {
    width: graph.width ?? 0,
    height: graph.height ?? 0,
    nodes: nodes.map((n) => {
      const p = g.node(n.id);
      return { ...n, x: p.x, y: p.y, w: p.width, h: p.height };
    }),
    edges: edges
      .filter((e) => g.hasNode(e.from) && g.hasNode(e.to))
      .map((e) => {
        const p = g.edge(e.from, e.to);
        return { ...e, points: p.points ?? [], lx: p.x, ly: p.y };
      }),
  };
}

/** dagre's bend points as one smooth curve: quadratic segments through the midpoints between them. */
function smoothPath(points: readonly { x: number; y: number }[]): string {
  const f = (n: number): string => n.toFixed(1);
  const [first, ...rest] = points;
  if (!first) return "";
  let d = `M${f(first.x)},${f(first.y)}`;
  for (let i = 0; i < rest.length - 1; i++) {
    const p = rest[i]!;
    const q = rest[i + 1]!;
    d += ` Q${f(p.x)},${f(p.y)} ${f((p.x + q.x) / 2)},${f((p.y + q.y) / 2)}`;
  }
  const last = rest[rest.length - 1];
  if (last) d += ` L${f(last.x)},${f(last.y)}`;
  return d;
}

/** A directed graph laid out by dagre and drawn as plain SVG; nodes with an href navigate in the app. */
export function Graph({
  nodes,
  edges,
  testid,
  label,
  rankdir = "LR",
}: {
  nodes: readonly GraphNode[];
  edges: readonly GraphEdge[];
  testid: string;
  label: string;
  rankdir?: "LR" | "TB";
}): JSX.Element {
  const laid = useMemo(() => layout(nodes, edges, rankdir), [nodes, edges, rankdir]);
  const markerId = `arrow-${testid}`;
  return (
    <div class="graph-wrap">
      <svg
        data-testid={testid}
        class="graph"
        role="img"
        aria-label={label}
        viewBox={`0 0 ${laid.width} ${laid.height}`}
        width={laid.width}
        height={laid.height}
      >
        <defs>
          <marker id={markerId} viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M 0 0 L 10 5 L 0 10 z" class="arrow" />
          </marker>
        </defs>
        {laid.edges.map((e) => (
          <g key={`${e.from}->${e.to}`} class="edge">
            <path d={smoothPath(e.points)} marker-end={`url(#${markerId})`} />
            {e.label && e.lx !== undefined && e.ly !== undefined && (
              <text x={e.lx} y={e.ly - 5} text-anchor="middle" class="edge-label">
                {e.label}
              </text>
            )}
          </g>
        ))}
        {laid.nodes.map((n) => {
          const body = (
            <>
              <rect x={n.x - n.w / 2} y={n.y - n.h / 2} width={n.w} height={n.h} rx="6" class="node-box" />
              {n.lines.map((line, i) => (
                <text key={i} x={n.x} y={n.y - n.h / 2 + PAD + 10 + i * LINE} text-anchor="middle" class={i === 0 ? "node-title" : "node-detail"}>
                  {line}
                </text>
              ))}
            </>
          );
          const cls = `node node-${n.kind}${n.highlight ? " node-focus" : ""}`;
          return n.href !== undefined ? (
            <a
              key={n.id}
              href={n.href}
              class={cls}
              {...n.attrs}
              onClick={(e: MouseEvent) => {
                if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
                e.preventDefault();
                navigate(n.href!);
              }}
            >
              {body}
            </a>
          ) : (
            <g key={n.id} class={cls} {...n.attrs}>
              {body}
            </g>
          );
        })}
      </svg>
    </div>
  );
}
