import type { CatalogueCache } from "@granary/catalogue-cache";
import type { OnlineStore } from "./online-store.js";

export interface SweeperLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/**
 * Purges rows older than their group's online TTL on a timer. Reads already report such rows as
 * EXPIRED; the sweep only reclaims their space. One group at a time, in bounded batches.
 */
export function startTtlSweeper(
  store: OnlineStore,
  groups: () => Iterable<{ id: bigint; ttlMicros: bigint }>,
  intervalMs: number,
  logger: SweeperLogger,
): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  let stopped = false;
  const sweep = async () => {
    for (const { id, ttlMicros } of groups()) {
      const before = BigInt(Date.now()) * 1000n - ttlMicros;
      let purged = 0;
      for (let batch = -1; batch !== 0 && !stopped;) {
        batch = await store.purgeExpired(id, before, 10_000);
        purged += batch;
      }
      if (purged > 0) logger.info({ groupId: id.toString(), purged }, "purged expired online rows");
    }
  };
  const timer = setInterval(() => {
    if (running) return;
    running = sweep()
      .catch((err: unknown) => logger.warn({ err }, "TTL sweep failed"))
      .finally(() => (running = undefined));
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}

/** The online-enabled groups with a TTL, from the catalogue. */
export function groupsWithTtl(catalogue: CatalogueCache): () => Iterable<{ id: bigint; ttlMicros: bigint }> {
  return () => catalogue.groupsWithTtl();
}
