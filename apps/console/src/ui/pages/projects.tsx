import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { api } from "../api";
import { Async, EmptyState } from "../components";
import { formatTime } from "../format";
import { href, Link } from "../router";
import { allPages, useCall } from "../use-call";

export function ProjectsPage(): JSX.Element {
  const [filter, setFilter] = useState("");
  const [state, retry] = useCall(
    (signal) =>
      allPages(async (pageToken) => {
        const r = await api.metadata.listProjects({ pageSize: 200, pageToken }, { signal });
        return { items: r.projects, next: r.nextPageToken };
      }),
    [],
  );
  return (
    <div class="page">
      <h1>Projects</h1>
      <Async state={state} retry={retry} what="projects">
        {(projects) => {
          if (projects.length === 0)
            return (
              <EmptyState>
                <p>No projects yet, or none your key may see.</p>
                <p>
                  Create one with the CLI (<code>npm run granary -- apply</code>) or the SDK, or load the demo: <code>npm run demo:fraud -- --small</code>.
                </p>
              </EmptyState>
            );
          const f = filter.trim().toLowerCase();
          const shown = projects.filter((p) => f === "" || p.name.includes(f) || p.description.toLowerCase().includes(f));
          return (
            <>
              <input
                class="filter"
                type="search"
                placeholder="Filter projects by name or description"
                aria-label="Filter projects"
                value={filter}
                onInput={(e) => setFilter(e.currentTarget.value)}
              />
              {shown.length === 0 ? (
                <EmptyState>No project matches “{filter}”.</EmptyState>
              ) : (
                <ul class="item-list" data-testid="project-list">
                  {shown.map((p) => (
                    <li key={p.name} data-testid="project-item">
                      <Link href={href("projects", p.name)} class="item-title">
                        {p.name}
                      </Link>
                      <span class="muted">{p.description || "no description"}</span>
                      <span class="muted small">created {formatTime(p.createTime)}</span>
                    </li>
                  ))}
                </ul>
              )}
            </>
          );
        }}
      </Async>
    </div>
  );
}
