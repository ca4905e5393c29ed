import type { ServiceImpl } from "@connectrpc/connect";
import type { OfflineService } from "@granary/proto/offline";
import { checkConsistency, type ConsistencyDeps } from "./check-consistency.js";

/** The CheckConsistency RPC. */
export type ConsistencyHandlers = Pick<Partial<ServiceImpl<typeof OfflineService>>, "checkConsistency">;

export type { ConsistencyDeps } from "./check-consistency.js";

export function createConsistencyHandlers(deps: ConsistencyDeps): ConsistencyHandlers {
  return {
    async *checkConsistency(req, ctx) {
      // One stream of the project's quota, like any training read it makes.
      const release = deps.streams.acquire(req.project, ctx.signal);
      try {
        yield* checkConsistency(deps, req, ctx.signal);
      } finally {
        release();
      }
    },
  };
}
