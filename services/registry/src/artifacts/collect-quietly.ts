import { collectBlob } from "../store/artifacts-store.js";
import type { ArtifactDeps } from "./artifact-deps.js";

/**
 * Removes a blob nothing refers to, logging instead of failing: a call that already did its work
 * should not fail over garbage, which the next sweep collects anyway.
 */
export async function collectQuietly(deps: Pick<ArtifactDeps, "pool" | "blobs" | "logger">, sha256: string): Promise<void> {
  try {
    await collectBlob(deps.pool, deps.blobs, sha256);
  } catch (err) {
    deps.logger.warn({ err, sha256 }, "could not collect an unreferenced blob; the next sweep will");
  }
}
