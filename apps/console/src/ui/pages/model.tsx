import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { ModelVersionStatus, type Artifact, type Model, type ModelVersion } from "@granary/proto/registry";
import { api } from "../api";
import { Async, Badge, EmptyState, ErrorMessage, Section, Tags } from "../components";
import { MetricChart, type MetricPoint } from "../charts";
import { columnCell, formatBytes, formatNumber, formatTime, typeName } from "../format";
import { href, Link } from "../router";
import { allPages, useCall } from "../use-call";

export function ModelPage({ project, name, selected }: { project: string; name: string; selected: number | undefined }): JSX.Element {
  const [state, retry] = useCall(
    async (signal) => {
      const [model, versions] = await Promise.all([
        api.registry.getModel({ project, name }, { signal }),
        allPages(async (pageToken) => {
          const r = await api.registry.listModelVersions({ project, model: name, pageSize: 500, pageToken, includeIncomplete: true }, { signal });
          return { items: r.modelVersions, next: r.nextPageToken };
        }),
      ]);
      return { model: model.model, versions: versions.sort((a, b) => a.version - b.version) };
    },
    [project, name],
  );
  return (
    <div class="page">
      <Async state={state} retry={retry} what="the model">
        {({ model, versions }) =>
          model ? <ModelDetail project={project} model={model} versions={versions} selected={selected} /> : <EmptyState>No such model.</EmptyState>
        }
      </Async>
    </div>
  );
}

function ModelDetail({
  project,
  model,
  versions,
  selected,
}: {
  project: string;
  model: Model;
  versions: readonly ModelVersion[];
  selected: number | undefined;
}): JSX.Element {
  const current = versions.find((v) => v.version === selected) ?? versions[versions.length - 1];
  const metrics = [...new Set(versions.flatMap((v) => Object.keys(v.metrics)))].sort();
  const points = (metric: string): MetricPoint[] =>
    versions.filter((v) => v.metrics[metric] !== undefined).map((v) => ({ version: v.version, metric, value: v.metrics[metric]! }));
  const base = href("projects", project, "models", model.name);
  return (
    <>
      <div class="page-head">
        <div>
          <h1>{model.name}</h1>
          <p>{model.description || <span class="muted">no description</span>}</p>
          <Tags tags={model.tags} />
        </div>
        {current && (
          <div class="head-links">
            <Link href={href("projects", project, "lineage", "model", model.name, current.version)} data-testid="lineage-link">
              Lineage of v{current.version} →
            </Link>
          </div>
        )}
      </div>
      <Section title="Aliases">
        <div data-testid="model-aliases">
          {Object.keys(model.aliases).length === 0 ? (
            <EmptyState>No aliases. Set one (for example “production”) with the SDK to serve a version by name.</EmptyState>
          ) : (
            <table class="table compact fit">
              <tbody>
                {Object.entries(model.aliases).map(([alias, v]) => (
                  <tr key={alias} data-testid="model-alias" data-alias={alias}>
                    <td>
                      <Badge tone="info">{alias}</Badge>
                    </td>
                    <td>
                      <Link href={`${base}?version=${v}`}>version {v}</Link>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      </Section>
      <Section title="Metrics across versions">
        <div data-testid="model-metrics-chart" class="metric-charts">
          {metrics.length === 0 ? <EmptyState>No metrics logged.</EmptyState> : metrics.map((m) => <MetricChart key={m} metric={m} points={points(m)} />)}
        </div>
      </Section>
      <Section title="Versions">
        {versions.length === 0 ? (
          <EmptyState>No versions yet.</EmptyState>
        ) : (
          <div class="scroll-x">
            <table class="table" data-testid="model-versions">
              <thead>
                <tr>
                  <th>version</th>
                  <th>status</th>
                  <th>framework</th>
                  {metrics.map((m) => (
                    <th key={m} class="num">
                      {m}
                    </th>
                  ))}
                  <th>trained on</th>
                  <th>aliases</th>
                  <th>created</th>
                </tr>
              </thead>
              <tbody>
                {[...versions].reverse().map((v) => (
                  <tr key={v.version} data-testid="model-version" data-version={v.version} class={v === current ? "selected" : undefined}>
                    <td>
                      <Link href={`${base}?version=${v.version}`}>v{v.version}</Link>
                    </td>
                    <td>{v.status === ModelVersionStatus.READY ? <Badge tone="ok">ready</Badge> : <Badge tone="warn">uploading</Badge>}</td>
                    <td>{v.framework}</td>
                    {metrics.map((m) => (
                      <td key={m} class="num">
                        {v.metrics[m] === undefined ? "" : formatNumber(v.metrics[m])}
                      </td>
                    ))}
                    <td>
                      {v.featureView ? (
                        <Link href={href("projects", project, "datasets", v.featureView.name, v.featureView.version, v.trainingDatasetVersion)}>
                          {v.featureView.name} v{v.featureView.version} / ds {v.trainingDatasetVersion}
                        </Link>
                      ) : (
                        <span class="muted">—</span>
                      )}
                    </td>
                    <td>
                      {v.aliases.map((a) => (
                        <Badge key={a} tone="info">
                          {a}
                        </Badge>
                      ))}
                    </td>
                    <td class="small">{formatTime(v.createTime)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
      {current && <VersionDetail project={project} model={model.name} v={current} />}
    </>
  );
}

function VersionDetail({ project, model, v }: { project: string; model: string; v: ModelVersion }): JSX.Element {
  const example = v.inputExample;
  return (
    <>
      <h2 class="subhead">Version {v.version}</h2>
      {v.description && <p>{v.description}</p>}
      <Section title="Artifacts">
        <Artifacts project={project} model={model} version={v.version} />
      </Section>
      <div class="two-col">
        <Section title="Schema">
          <div data-testid="model-schema">
            {!v.schema || (v.schema.inputs.length === 0 && v.schema.outputs.length === 0) ? (
              <EmptyState>No schema recorded.</EmptyState>
            ) : (
              <table class="table compact">
                <tbody>
                  {v.schema.inputs.map((c) => (
                    <tr key={`in:${c.name}`}>
                      <td>input</td>
                      <td class="mono">{c.name}</td>
                      <td class="mono">{typeName(c.type)}</td>
                    </tr>
                  ))}
                  {v.schema.outputs.map((c) => (
                    <tr key={`out:${c.name}`}>
                      <td>output</td>
                      <td class="mono">{c.name}</td>
                      <td class="mono">{typeName(c.type)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </div>
        </Section>
        <Section title="Parameters">
          {Object.keys(v.parameters).length === 0 ? (
            <EmptyState>No parameters recorded.</EmptyState>
          ) : (
            <table class="table compact">
              <tbody>
                {Object.entries(v.parameters).map(([k, val]) => (
                  <tr key={k}>
                    <td class="mono">{k}</td>
                    <td class="mono">{val}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Section>
      </div>
      <Section title="Input example">
        <div data-testid="model-input-example">
          {!example || example.rowCount === 0 ? (
            <EmptyState>No input example recorded.</EmptyState>
          ) : (
            <div class="scroll-x">
              <table class="table compact">
                <thead>
                  <tr>
                    {example.columns.map((c) => (
                      <th key={c.name} class="mono">
                        {c.name}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {Array.from({ length: Math.min(example.rowCount, 20) }, (_, row) => (
                    <tr key={row}>
                      {example.columns.map((c) => (
                        <td key={c.name} class="mono">
                          {columnCell(c.data, row)}
                        </td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </div>
      </Section>
    </>
  );
}

function Artifacts({ project, model, version }: { project: string; model: string; version: number }): JSX.Element {
  const [state, retry] = useCall(
    async (signal) => (await api.registry.listArtifacts({ project, model, version }, { signal })).artifacts,
    [project, model, version],
  );
  return (
    <div data-testid="model-artifacts">
      <Async state={state} retry={retry} what="artifacts">
        {(artifacts) =>
          artifacts.length === 0 ? (
            <EmptyState>No artifacts uploaded for this version.</EmptyState>
          ) : (
            <table class="table compact">
              <thead>
                <tr>
                  <th>path</th>
                  <th>size</th>
                  <th>type</th>
                  <th>sha256</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {artifacts.map((a) => (
                  <ArtifactRow key={a.path} project={project} model={model} version={version} a={a} />
                ))}
              </tbody>
            </table>
          )
        }
      </Async>
    </div>
  );
}

/** DownloadArtifact streams the bytes; the browser gets them as a Blob saved under the artifact's name. */
function ArtifactRow({ project, model, version, a }: { project: string; model: string; version: number; a: Artifact }): JSX.Element {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const download = (): void => {
    setBusy(true);
    setError(undefined);
    void (async () => {
      try {
        const parts: Uint8Array<ArrayBuffer>[] = [];
        let type = a.contentType || "application/octet-stream";
        for await (const m of api.registry.downloadArtifact({ project, model, version, path: a.path })) {
          if (m.message.case === "artifact") type = m.message.value.contentType || type;
          else if (m.message.case === "chunk") parts.push(new Uint8Array(m.message.value));
        }
        const url = URL.createObjectURL(new Blob(parts, { type }));
        const link = document.createElement("a");
        link.href = url;
        link.download = a.path.split("/").pop() ?? "artifact";
        document.body.append(link);
        link.click();
        link.remove();
        setTimeout(() => URL.revokeObjectURL(url), 10_000);
      } catch (err) {
        setError(err);
      } finally {
        setBusy(false);
      }
    })();
  };
  return (
    <tr data-testid="model-artifact" data-path={a.path}>
      <td class="mono">{a.path}</td>
      <td class="num">{formatBytes(a.sizeBytes)}</td>
      <td class="small">{a.contentType}</td>
      <td class="mono small" title={a.sha256}>
        {a.sha256.slice(0, 12)}…
      </td>
      <td>
        <button type="button" class="small-button" data-testid="artifact-download" onClick={download} disabled={busy}>
          {busy ? "Downloading…" : "Download"}
        </button>
        {error !== undefined && <ErrorMessage error={error} />}
      </td>
    </tr>
  );
}
