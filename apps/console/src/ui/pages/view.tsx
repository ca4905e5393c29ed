import type { JSX } from "preact";
import { ColumnRole, JoinType, TransformationFunction, type FeatureGroup, type FeatureView } from "@granary/proto/metadata";
import { api } from "../api";
import { Async, Badge, EmptyState, Section, Tags } from "../components";
import { enumLabel, formatDuration, formatTime, typeName } from "../format";
import { Graph, type GraphEdge, type GraphNode } from "../graph";
import { href, Link } from "../router";
import { useCall } from "../use-call";
import { LookupForm } from "../lookup";
import { ConsistencyCheck, ReplicaStatus } from "../consistency";
import { MonitoringPanel } from "../monitoring";

export function ViewPage({ project, name, version }: { project: string; name: string; version: number }): JSX.Element {
  const [state, retry] = useCall(
    async (signal) => (await api.metadata.getFeatureView({ project, name, version }, { signal })).featureView,
    [project, name, version],
  );
  return (
    <div class="page">
      <Async state={state} retry={retry} what="the feature view">
        {(view) => (view ? <ViewDetail project={project} view={view} /> : <EmptyState>No such feature view.</EmptyState>)}
      </Async>
    </div>
  );
}

function ViewDetail({ project, view }: { project: string; view: FeatureView }): JSX.Element {
  return (
    <>
      <div class="page-head">
        <div>
          <h1>
            {view.name} <span class="muted">v{view.version}</span>
          </h1>
          <p>{view.description || <span class="muted">no description</span>}</p>
          <Tags tags={view.tags} />
          <p class="muted small">created {formatTime(view.createTime)}</p>
        </div>
        <div class="head-links">
          <Link href={href("projects", project, "lineage", "view", view.name, view.version)} data-testid="lineage-link">
            Lineage →
          </Link>
          <Link href={`${href("projects", project, "datasets")}?view=${encodeURIComponent(view.name)}`}>Training datasets →</Link>
        </div>
      </div>
      <Section title="Join tree">
        <JoinTree project={project} view={view} />
      </Section>
      <Section title="Output columns">
        <table class="table" data-testid="view-columns">
          <thead>
            <tr>
              <th>#</th>
              <th>column</th>
              <th>type</th>
              <th>role</th>
              <th>from</th>
              <th>transformation</th>
            </tr>
          </thead>
          <tbody>
            {view.outputColumns.map((c, i) => (
              <tr key={c.name} data-testid="view-column" data-column={c.name}>
                <td class="num muted">{i}</td>
                <td class="mono">{c.name}</td>
                <td class="mono">{typeName(c.type)}</td>
                <td>
                  <Badge tone={c.role === ColumnRole.LABEL ? "warn" : c.role === ColumnRole.FEATURE ? "info" : "muted"}>{enumLabel(ColumnRole[c.role])}</Badge>
                </td>
                <td class="mono">
                  {c.featureGroup ? (
                    <Link href={href("projects", project, "groups", c.featureGroup.name, c.featureGroup.version)}>
                      {c.featureGroup.name} v{c.featureGroup.version}
                    </Link>
                  ) : (
                    "on demand"
                  )}
                  {c.sourceColumn && c.sourceColumn !== c.name ? ` .${c.sourceColumn}` : ""}
                </td>
                <td>{c.transformation ? enumLabel(TransformationFunction[c.transformation]) : ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
      <div class="two-col">
        <Section title="Serving keys">
          {view.servingKeys.length === 0 ? (
            <EmptyState>No serving keys.</EmptyState>
          ) : (
            <table class="table compact" data-testid="serving-keys">
              <tbody>
                {view.servingKeys.map((k) => (
                  <tr key={k.name}>
                    <td class="mono">{k.name}</td>
                    <td class="mono">{typeName(k.type)}</td>
                    <td class="muted">
                      {k.featureGroup?.name}.{k.column}
                    </td>
                    <td>{k.required ? <Badge tone="info">required</Badge> : <Badge tone="muted">optional</Badge>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Section>
        <Section title="Transformations">
          {view.transformations.length === 0 ? (
            <EmptyState>No transformations.</EmptyState>
          ) : (
            <table class="table compact" data-testid="view-transformations">
              <tbody>
                {view.transformations.map((t) => (
                  <tr key={t.column}>
                    <td class="mono">{t.column}</td>
                    <td>{enumLabel(TransformationFunction[t.function])}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Section>
      </div>
      <Section title="On-demand features">
        {view.onDemandFeatures.length === 0 ? (
          <EmptyState>No on-demand features.</EmptyState>
        ) : (
          <table class="table" data-testid="view-on-demand">
            <thead>
              <tr>
                <th>feature</th>
                <th>type</th>
                <th>expression</th>
                <th>request parameters</th>
              </tr>
            </thead>
            <tbody>
              {view.onDemandFeatures.map((f) => (
                <tr key={f.name}>
                  <td class="mono">{f.name}</td>
                  <td class="mono">{typeName(f.type)}</td>
                  <td>
                    <code>{f.expression}</code>
                  </td>
                  <td class="mono">{f.requestParameters.map((p) => `${p.name}: ${typeName(p.type)}`).join(", ")}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {(view.inferenceHelperColumns.length > 0 || view.trainingHelperColumns.length > 0) && (
          <p class="small">
            Inference helpers: <span class="mono">{view.inferenceHelperColumns.join(", ") || "none"}</span> · training helpers:{" "}
            <span class="mono">{view.trainingHelperColumns.join(", ") || "none"}</span>
          </p>
        )}
      </Section>
      <Section title="Try a lookup">
        <LookupForm project={project} view={view} />
      </Section>
      <Section title="Online/offline consistency">
        <ReplicaStatus />
        <ConsistencyCheck project={project} view={view} />
      </Section>
      <Section title="Monitoring: logging and drift" testid="monitoring-section">
        <MonitoringPanel project={project} view={view} />
      </Section>
    </>
  );
}

function JoinTree({ project, view }: { project: string; view: FeatureView }): JSX.Element {
  const groups = view.resolved?.groups ?? [];
  // The TTL is a property of each joined group: read the groups the diagram shows.
  const [details] = useCall(
    async (signal) => {
      const out = new Map<string, FeatureGroup>();
      await Promise.all(
        groups.map(async (g) => {
          if (!g.featureGroup) return;
          const r = await api.metadata.getFeatureGroup({ project, name: g.featureGroup.name, version: g.featureGroup.version }, { signal });
          if (r.featureGroup) out.set(`${g.featureGroup.name}/${g.featureGroup.version}`, r.featureGroup);
        }),
      );
      return out;
    },
    [project, view.name, view.version],
  );
  if (groups.length === 0) return <EmptyState>This view has no resolved query.</EmptyState>;
  const info = details.status === "done" ? details.value : new Map<string, FeatureGroup>();
  const nodes: GraphNode[] = groups.map((g, i) => {
    const ref = g.featureGroup;
    const fg = ref ? info.get(`${ref.name}/${ref.version}`) : undefined;
    const lines = [`${ref?.name ?? "?"} v${ref?.version ?? "?"}`];
    if (fg) lines.push(`key: ${fg.primaryKey.join(", ")}`);
    if (g.prefix) lines.push(`prefix: ${g.prefix}`);
    if (fg) lines.push(`ttl: ${fg.onlineEnabled ? formatDuration(fg.onlineTtl) : "offline only"}`);
    return {
      id: String(i),
      kind: i === 0 ? "root" : "group",
      lines,
      href: ref ? href("projects", project, "groups", ref.name, ref.version) : undefined,
      attrs: { "data-testid": "join-node", "data-name": ref?.name ?? "" },
    };
  });
  const edges: GraphEdge[] = groups.flatMap((g, i) => {
    if (g.parent < 0) return [];
    const same = g.leftOn.length === g.rightOn.length && g.leftOn.every((l, j) => l === g.rightOn[j]);
    const keys = same ? `on ${g.leftOn.join(", ")}` : `${g.leftOn.join(", ")} = ${g.rightOn.join(", ")}`;
    const type = g.joinType === JoinType.INNER ? " (inner)" : "";
    return [{ from: String(g.parent), to: String(i), label: `${keys}${type}` }];
  });
  return <Graph nodes={nodes} edges={edges} testid="join-tree" label={`join tree of ${view.name}`} />;
}
