import type { JSX } from "preact";
import { api } from "../api";
import { Async, Badge, EmptyState, Tags } from "../components";
import { href, Link } from "../router";
import { allPages, useCall } from "../use-call";

export function GroupsPage({ project }: { project: string }): JSX.Element {
  const [state, retry] = useCall(
    (signal) =>
      allPages(async (pageToken) => {
        const r = await api.metadata.listFeatureGroups({ project, pageSize: 500, pageToken }, { signal });
        return { items: r.featureGroups, next: r.nextPageToken };
      }),
    [project],
  );
  return (
    <div class="page">
      <h1>Feature groups</h1>
      <p class="muted">
        in project <Link href={href("projects", project)}>{project}</Link>
      </p>
      <Async state={state} retry={retry} what="feature groups">
        {(groups) =>
          groups.length === 0 ? (
            <EmptyState>
              <p>{project} has no feature groups yet.</p>
              <p>Create one with the SDK or the CLI, then insert rows; it shows up here with its schema, commits and statistics.</p>
            </EmptyState>
          ) : (
            <ul class="item-list" data-testid="group-list">
              {groups.map((g) => (
                <li key={`${g.name}/${g.version}`} data-testid="group-item">
                  <Link href={href("projects", project, "groups", g.name, g.version)} class="item-title">
                    {g.name} <span class="muted">v{g.version}</span>
                  </Link>
                  <span class="muted">{g.description || "no description"}</span>
                  <span>
                    {g.columns.length} columns · key {g.primaryKey.join(", ")}{" "}
                    {g.onlineEnabled ? <Badge tone="ok">online</Badge> : <Badge tone="muted">offline only</Badge>}
                  </span>
                  <Tags tags={g.tags} />
                </li>
              ))}
            </ul>
          )
        }
      </Async>
    </div>
  );
}
