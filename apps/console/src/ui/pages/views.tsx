import type { JSX } from "preact";
import { api } from "../api";
import { Async, EmptyState, Tags } from "../components";
import { href, Link } from "../router";
import { allPages, useCall } from "../use-call";

export function ViewsPage({ project }: { project: string }): JSX.Element {
  const [state, retry] = useCall(
    (signal) =>
      allPages(async (pageToken) => {
        const r = await api.metadata.listFeatureViews({ project, pageSize: 500, pageToken }, { signal });
        return { items: r.featureViews, next: r.nextPageToken };
      }),
    [project],
  );
  return (
    <div class="page">
      <h1>Feature views</h1>
      <p class="muted">
        in project <Link href={href("projects", project)}>{project}</Link>
      </p>
      <Async state={state} retry={retry} what="feature views">
        {(views) =>
          views.length === 0 ? (
            <EmptyState>
              <p>{project} has no feature views yet.</p>
              <p>A feature view joins feature groups into the columns a model reads; create one with the SDK or the CLI.</p>
            </EmptyState>
          ) : (
            <ul class="item-list" data-testid="view-list">
              {views.map((v) => (
                <li key={`${v.name}/${v.version}`} data-testid="view-item">
                  <Link href={href("projects", project, "views", v.name, v.version)} class="item-title">
                    {v.name} <span class="muted">v{v.version}</span>
                  </Link>
                  <span class="muted">{v.description || "no description"}</span>
                  <span>
                    {v.outputColumns.length} columns · {v.resolved?.groups.length ?? 0} groups · serving keys{" "}
                    {v.servingKeys.map((k) => k.name).join(", ") || "none"}
                  </span>
                  <Tags tags={v.tags} />
                </li>
              ))}
            </ul>
          )
        }
      </Async>
    </div>
  );
}
