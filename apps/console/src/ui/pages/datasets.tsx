import type { JSX } from "preact";
import { TrainingDatasetStatus, type TrainingDataset } from "@granary/proto/metadata";
import { api } from "../api";
import { Async, Badge, EmptyState } from "../components";
import { enumLabel, formatNumber, formatTime } from "../format";
import { href, Link, useLocation } from "../router";
import { allPages, useCall } from "../use-call";

export function statusBadge(status: TrainingDatasetStatus): JSX.Element {
  const tone = status === TrainingDatasetStatus.READY ? "ok" : status === TrainingDatasetStatus.FAILED ? "bad" : "warn";
  return <Badge tone={tone}>{enumLabel(TrainingDatasetStatus[status])}</Badge>;
}

/** Training datasets belong to feature views: list the views, then each view's datasets. */
export function DatasetsPage({ project }: { project: string }): JSX.Element {
  const onlyView = useLocation().query.get("view") ?? undefined;
  const [state, retry] = useCall(
    async (signal) => {
      const views = await allPages(async (pageToken) => {
        const r = await api.metadata.listFeatureViews({ project, pageSize: 500, pageToken, name: onlyView ?? "" }, { signal });
        return { items: r.featureViews, next: r.nextPageToken };
      });
      const perView = await Promise.all(
        views.map((v) =>
          allPages(async (pageToken) => {
            const r = await api.metadata.listTrainingDatasets(
              { project, featureView: { name: v.name, version: v.version }, pageSize: 500, pageToken },
              { signal },
            );
            return { items: r.trainingDatasets, next: r.nextPageToken };
          }),
        ),
      );
      return { views: views.length, datasets: perView.flat() };
    },
    [project, onlyView],
  );
  return (
    <div class="page">
      <h1>Training datasets</h1>
      <p class="muted">
        in project <Link href={href("projects", project)}>{project}</Link>
        {onlyView !== undefined && (
          <>
            {" "}
            · of view {onlyView} (<Link href={href("projects", project, "datasets")}>all views</Link>)
          </>
        )}
      </p>
      <Async state={state} retry={retry} what="training datasets">
        {({ views, datasets }) =>
          datasets.length === 0 ? (
            <EmptyState>
              <p>{views === 0 ? `${project} has no feature views, so no training datasets.` : "No training datasets yet."}</p>
              <p>Create one from a feature view with the SDK (featureView.createTrainingDataset) or the CLI.</p>
            </EmptyState>
          ) : (
            <ul class="item-list" data-testid="dataset-list">
              {datasets.map((d) => (
                <DatasetItem key={`${d.featureView?.name}/${d.featureView?.version}/${d.version}`} project={project} d={d} />
              ))}
            </ul>
          )
        }
      </Async>
    </div>
  );
}

function DatasetItem({ project, d }: { project: string; d: TrainingDataset }): JSX.Element {
  const view = d.featureView;
  return (
    <li data-testid="dataset-item">
      <Link href={href("projects", project, "datasets", view?.name ?? "", view?.version ?? 0, d.version)} class="item-title">
        {view?.name} v{view?.version} · dataset {d.version}
      </Link>
      <span class="muted">{d.description || "no description"}</span>
      <span>
        {statusBadge(d.status)} {formatNumber(d.rowCount)} rows · created {formatTime(d.createTime)}
      </span>
    </li>
  );
}
