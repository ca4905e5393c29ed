import type { ComponentChildren, JSX } from "preact";
import { describeError } from "./api";
import type { CallState } from "./use-call";

export function Loading({ what }: { what?: string }): JSX.Element {
  return (
    <div class="loading" data-testid="loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" /> Loading{what ? ` ${what}` : ""}…
    </div>
  );
}

export function ErrorMessage({ error, retry }: { error: unknown; retry?: () => void }): JSX.Element {
  const { title, detail } = describeError(error);
  return (
    <div class="error" data-testid="error-message" role="alert">
      <strong>{title}</strong>
      <p>{detail}</p>
      {retry && (
        <button type="button" onClick={retry}>
          Retry
        </button>
      )}
    </div>
  );
}

export function EmptyState({ children }: { children: ComponentChildren }): JSX.Element {
  return (
    <div class="empty" data-testid="empty-state">
      {children}
    </div>
  );
}

/** Loading, error or the value, the same way on every page. */
export function Async<T>({
  state,
  retry,
  what,
  children,
}: {
  state: CallState<T>;
  retry?: () => void;
  what?: string;
  children: (value: T) => ComponentChildren;
}): JSX.Element {
  if (state.status === "loading") return <Loading what={what} />;
  if (state.status === "error") return <ErrorMessage error={state.error} retry={retry} />;
  return <>{children(state.value)}</>;
}

export function Section({
  title,
  children,
  testid,
  actions,
}: {
  title: string;
  children: ComponentChildren;
  testid?: string;
  actions?: ComponentChildren;
}): JSX.Element {
  return (
    <section class="card" data-testid={testid}>
      <header class="card-head">
        <h2>{title}</h2>
        {actions}
      </header>
      {children}
    </section>
  );
}

export function Tags({ tags }: { tags: readonly string[] }): JSX.Element | null {
  if (tags.length === 0) return null;
  return (
    <span class="tags">
      {tags.map((t) => (
        <span class="tag" key={t}>
          {t}
        </span>
      ))}
    </span>
  );
}

export function Badge({ tone, children }: { tone: "ok" | "warn" | "bad" | "muted" | "info"; children: ComponentChildren }): JSX.Element {
  return <span class={`badge badge-${tone}`}>{children}</span>;
}
