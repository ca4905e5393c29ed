import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { SearchResultKind, type SearchResult } from "@granary/proto/metadata";
import { api } from "../api";
import { Async, EmptyState, Tags } from "../components";
import { href, Link, navigate } from "../router";
import { useCall } from "../use-call";

/** "fraud tag:pii tag:daily" → the words and the tags. */
export function parseSearch(text: string): { query: string; tags: string[] } {
  const tags: string[] = [];
  const words: string[] = [];
  for (const token of text.trim().split(/\s+/)) {
    if (token === "") continue;
    if (token.startsWith("tag:") && token.length > 4) tags.push(token.slice(4));
    else words.push(token);
  }
  return { query: words.join(" "), tags };
}

function resultLink(project: string, r: SearchResult): string {
  switch (r.kind) {
    case SearchResultKind.FEATURE_GROUP:
      return href("projects", project, "groups", r.name, r.version);
    case SearchResultKind.FEATURE_VIEW:
      return href("projects", project, "views", r.name, r.version);
    case SearchResultKind.MODEL:
      return href("projects", project, "models", r.name);
    default:
      return href("projects", project);
  }
}

const KIND_LABEL: Record<number, string> = {
  [SearchResultKind.FEATURE_GROUP]: "feature group",
  [SearchResultKind.FEATURE_VIEW]: "feature view",
  [SearchResultKind.MODEL]: "model",
};

export function ProjectHome({ project, query }: { project: string; query: string }): JSX.Element {
  const [text, setText] = useState(query);
  useEffect(() => setText(query), [query]);
  const [state, retry] = useCall(
    async (signal) => {
      const { query: q, tags } = parseSearch(query);
      return (await api.metadata.search({ project, query: q, tags, pageSize: 100 }, { signal })).results;
    },
    [project, query],
  );
  const submit = (e: Event): void => {
    e.preventDefault();
    const q = text.trim();
    navigate(`${href("projects", project)}${q === "" ? "" : `?q=${encodeURIComponent(q)}`}`);
  };
  return (
    <div class="page">
      <h1>
        Project <span class="mono">{project}</span>
      </h1>
      <div class="quick-links">
        <Link href={href("projects", project, "groups")}>Feature groups</Link>
        <Link href={href("projects", project, "views")}>Feature views</Link>
        <Link href={href("projects", project, "datasets")}>Training data</Link>
        <Link href={href("projects", project, "models")}>Models</Link>
        <Link href={href("projects", project, "lineage")}>Lineage</Link>
      </div>
      <form class="search" role="search" onSubmit={submit}>
        <input
          type="search"
          data-testid="search-input"
          placeholder="Search names and descriptions; tag:name filters by tag"
          aria-label="Search feature groups, views and models"
          value={text}
          onInput={(e) => setText(e.currentTarget.value)}
        />
        <button type="submit">Search</button>
      </form>
      <Async state={state} retry={retry} what="search results">
        {(results) =>
          results.length === 0 ? (
            <EmptyState>{query === "" ? "This project has no feature groups, views or models yet." : `Nothing in ${project} matches “${query}”.`}</EmptyState>
          ) : (
            <ul class="item-list" data-testid="search-results">
              {results.map((r) => (
                <li key={`${r.kind}/${r.name}/${r.version}`} data-testid="search-result">
                  <Link href={resultLink(project, r)} class="item-title">
                    {r.name}
                    {r.kind !== SearchResultKind.MODEL && <span class="muted"> v{r.version}</span>}
                  </Link>
                  <span class="kind">{KIND_LABEL[r.kind] ?? "item"}</span>
                  <span class="muted">{r.description || "no description"}</span>
                  <Tags tags={r.tags} />
                </li>
              ))}
            </ul>
          )
        }
      </Async>
    </div>
  );
}
