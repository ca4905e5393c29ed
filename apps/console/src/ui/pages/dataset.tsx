import type { JSX } from "preact";
import { DatasetSplit, type ColumnStatistics, type TrainingDataset } from "@granary/proto/metadata";
import type { DataType } from "@granary/proto/types";
import { api } from "../api";
import { Async, EmptyState, Section, Tags } from "../components";
import { TopValues } from "../charts";
import { enumLabel, formatBytes, formatNumber, formatTime } from "../format";
import { href, Link } from "../router";
import { StatisticsView } from "../statistics";
import { useCall } from "../use-call";
import { statusBadge } from "./datasets";

export function DatasetPage({ project, view, viewVersion, version }: { project: string; view: string; viewVersion: number; version: number }): JSX.Element {
  const [state, retry] = useCall(
    async (signal) => {
      const [d, v] = await Promise.all([
        api.metadata.getTrainingDataset({ project, featureView: { name: view, version: viewVersion }, version }, { signal }),
        api.metadata.getFeatureView({ project, name: view, version: viewVersion }, { signal }),
      ]);
      const types = new Map((v.featureView?.outputColumns ?? []).map((c) => [c.name, c.type] as const));
      return { dataset: d.trainingDataset, labels: v.featureView?.labels ?? [], types };
    },
    [project, view, viewVersion, version],
  );
  return (
    <div class="page">
      <Async state={state} retry={retry} what="the training dataset">
        {({ dataset, labels, types }) =>
          dataset ? <DatasetDetail project={project} d={dataset} labels={labels} types={types} /> : <EmptyState>No such training dataset.</EmptyState>
        }
      </Async>
    </div>
  );
}

function DatasetDetail({
  project,
  d,
  labels,
  types,
}: {
  project: string;
  d: TrainingDataset;
  labels: readonly string[];
  types: ReadonlyMap<string, DataType | undefined>;
}): JSX.Element {
  const view = d.featureView!;
  const splits = new Map<DatasetSplit, { rows: bigint; bytes: bigint; files: number }>();
  for (const f of d.files) {
    const s = splits.get(f.split) ?? { rows: 0n, bytes: 0n, files: 0 };
    splits.set(f.split, { rows: s.rows + f.rowCount, bytes: s.bytes + f.sizeBytes, files: s.files + 1 });
  }
  const spec = d.split?.kind;
  const labelStats = d.statistics.filter((c) => labels.includes(c.column));
  return (
    <>
      <div class="page-head">
        <div>
          <h1>
            {view.name} v{view.version} · dataset {d.version}
          </h1>
          <p>{d.description || <span class="muted">no description</span>}</p>
          <Tags tags={d.tags} />
          <p class="small">
            {statusBadge(d.status)} {formatNumber(d.rowCount)} rows · created {formatTime(d.createTime)}
            {d.statusMessage && <span class="muted"> · {d.statusMessage}</span>}
          </p>
        </div>
        <div class="head-links">
          <Link href={href("projects", project, "lineage", "dataset", view.name, view.version, d.version)} data-testid="lineage-link">
            Lineage →
          </Link>
          <Link href={href("projects", project, "views", view.name, view.version)}>Feature view →</Link>
        </div>
      </div>
      <Section title="Splits">
        <div data-testid="dataset-splits">
          {splits.size === 0 ? (
            <EmptyState>No files written yet.</EmptyState>
          ) : (
            <table class="table">
              <thead>
                <tr>
                  <th>split</th>
                  <th>rows</th>
                  <th>share</th>
                  <th>files</th>
                  <th>size</th>
                </tr>
              </thead>
              <tbody>
                {[...splits.entries()]
                  .sort(([a], [b]) => a - b)
                  .map(([split, s]) => (
                    <tr key={split} data-testid="split-row" data-split={enumLabel(DatasetSplit[split])}>
                      <td>{split === DatasetSplit.UNSPECIFIED ? "all" : enumLabel(DatasetSplit[split])}</td>
                      <td class="num">{formatNumber(s.rows)}</td>
                      <td class="num">{d.rowCount > 0n ? `${((Number(s.rows) / Number(d.rowCount)) * 100).toFixed(1)}%` : ""}</td>
                      <td class="num">{s.files}</td>
                      <td class="num">{formatBytes(s.bytes)}</td>
                    </tr>
                  ))}
              </tbody>
            </table>
          )}
          <p class="muted small">
            {spec?.case === "random" &&
              `Random split, seed ${String(spec.value.seed)}: train ${spec.value.train}, validation ${spec.value.validation}, test ${spec.value.test}.`}
            {spec?.case === "time" && `Split by event time: train ${formatTime(spec.value.train?.start)} → ${formatTime(spec.value.train?.end)}.`}
            {d.spine.case === "eventTimeRange" && ` Rows with event times ${formatTime(d.spine.value.start)} → ${formatTime(d.spine.value.end)}.`}
            {d.watermarks.length > 0 && ` Read as of commits ${d.watermarks.map((w) => `${w.featureGroup?.name} #${String(w.commitId)}`).join(", ")}.`}
          </p>
        </div>
      </Section>
      <Section title="Label balance">
        <div data-testid="label-balance">
          {labels.length === 0 ? (
            <EmptyState>The feature view has no label columns.</EmptyState>
          ) : labelStats.length === 0 ? (
            <EmptyState>No statistics for the labels ({labels.join(", ")}).</EmptyState>
          ) : (
            labelStats.map((c) => <LabelBalance key={c.column} c={c} />)
          )}
        </div>
      </Section>
      <Section title="Statistics">
        {d.statistics.length === 0 ? (
          <EmptyState>No statistics were computed for this dataset.</EmptyState>
        ) : (
          <StatisticsView columns={d.statistics} types={types} />
        )}
      </Section>
    </>
  );
}

function LabelBalance({ c }: { c: ColumnStatistics }): JSX.Element {
  return (
    <div class="label-balance">
      <h3 class="mono">{c.column}</h3>
      {c.topValues.length > 0 ? (
        <TopValues feature={c.column} values={c.topValues} total={c.count - c.nullCount} testid="label-values" />
      ) : c.histogram.length > 0 ? (
        <TopValues
          feature={c.column}
          values={c.histogram
            .filter((b) => b.count > 0n)
            .map((b) => ({ value: b.lower === b.upper ? formatNumber(b.lower) : `${formatNumber(b.lower)} – ${formatNumber(b.upper)}`, count: b.count }))}
          total={c.count - c.nullCount}
          testid="label-values"
        />
      ) : (
        <p class="muted">mean {formatNumber(c.mean)}</p>
      )}
    </div>
  );
}
