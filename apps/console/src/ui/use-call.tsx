import { useEffect, useState } from "preact/hooks";

export type CallState<T> =
  { readonly status: "loading" } | { readonly status: "error"; readonly error: unknown } | { readonly status: "done"; readonly value: T };

/**
 * Runs `call` when `deps` change and tracks its state; a call whose page has moved on is aborted,
 * and its late answer ignored. `retry` runs it again.
 */
export function useCall<T>(call: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[]): [CallState<T>, () => void] {
  const [state, setState] = useState<CallState<T>>({ status: "loading" });
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    const controller = new AbortController();
    setState({ status: "loading" });
    call(controller.signal).then(
      (value) => {
        if (!controller.signal.aborted) setState({ status: "done", value });
      },
      (error: unknown) => {
        if (!controller.signal.aborted) setState({ status: "error", error });
      },
    );
    return () => controller.abort();
  }, [...deps, attempt]);
  return [state, () => setAttempt((a) => a + 1)];
}

/** Every page of a paged List call. */
export async function allPages<T>(fetchPage: (pageToken: string) => Promise<{ items: T[]; next: string }>, limit = 5000): Promise<T[]> {
  const out: T[] = [];
  let token = "";
  do {
    const page = await fetchPage(token);
    out.push(...page.items);
    token = page.next;
  } while (token !== "" && out.length < limit);
  return out;
}
