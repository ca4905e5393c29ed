import { AsyncLocalStorage } from "node:async_hooks";

/** What a group needs of a server: its first phase of shutdown. */
interface Drainable {
  beginShutdown(): void;
}

// Services build their servers inside their start functions and hand back only a RunningService;
// an app that starts several in one process (the suite) learns their servers this way instead of
// every service exporting its server.
const group = new AsyncLocalStorage<Set<Drainable>>();

/** Called by createServer: the server joins the group of whoever is collecting, if anyone. */
export function joinServerGroup(server: Drainable): void {
  group.getStore()?.add(server);
}

/**
 * Runs `start` (a service's start function) and returns, next to what it returned, a function that
 * begins the shutdown of every server created while it ran: NOT_SERVING now, stop later.
 */
export async function collectServers<T>(start: () => Promise<T>): Promise<{ started: T; beginShutdown: () => void }> {
  const servers = new Set<Drainable>();
  const started = await group.run(servers, start);
  return { started, beginShutdown: () => servers.forEach((server) => server.beginShutdown()) };
}
