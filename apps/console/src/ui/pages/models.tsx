import type { JSX } from "preact";
import { api } from "../api";
import { Async, EmptyState, Tags } from "../components";
import { formatTime } from "../format";
import { href, Link } from "../router";
import { allPages, useCall } from "../use-call";

export function ModelsPage({ project }: { project: string }): JSX.Element {
  const [state, retry] = useCall(
    (signal) =>
      allPages(async (pageToken) => {
        const r = await api.registry.listModels({ project, pageSize: 500, pageToken }, { signal });
        return { items: r.models, next: r.nextPageToken };
      }),
    [project],
  );
  return (
    <div class="page">
      <h1>Models</h1>
      <p class="muted">
        in project <Link href={href("projects", project)}>{project}</Link>
      </p>
      <Async state={state} retry={retry} what="models">
        {(models) =>
          models.length === 0 ? (
            <EmptyState>
              <p>{project} has no models in the registry yet.</p>
              <p>Register one with the SDK's model registry (granary.models) after training on a training dataset.</p>
            </EmptyState>
          ) : (
            <ul class="item-list" data-testid="model-list">
              {models.map((m) => (
                <li key={m.name} data-testid="model-item">
                  <Link href={href("projects", project, "models", m.name)} class="item-title">
                    {m.name}
                  </Link>
                  <span class="muted">{m.description || "no description"}</span>
                  <span>
                    latest version {m.latestVersion}
                    {Object.keys(m.aliases).length > 0 &&
                      ` · ${Object.entries(m.aliases)
                        .map(([a, v]) => `${a} → v${v}`)
                        .join(", ")}`}{" "}
                    · updated {formatTime(m.updateTime)}
                  </span>
                  <Tags tags={m.tags} />
                </li>
              ))}
            </ul>
          )
        }
      </Async>
    </div>
  );
}
