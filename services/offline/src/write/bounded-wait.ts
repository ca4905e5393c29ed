/**
 * Waits for the work that follows a commit (the online push, the statistics) up to `ms`, then
 * answers anyway: the commit is durable, and that work goes on in the background.
 */
export async function waitBounded(work: readonly Promise<unknown>[], ms: number): Promise<void> {
  if (work.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  await Promise.race([Promise.all(work.map((w) => w.catch(() => undefined))), waited]);
  clearTimeout(timer);
}
