import type { Pool } from "pg";
import type { Logger } from "@granary/telemetry";
import { collectQuietly } from "./artifacts/collect-quietly.js";
import { reconcileModelRecords } from "./reconcile-model-records.js";
import { unreferencedDigests } from "./store/artifacts-store.js";
import type { BlobStore } from "./store/blob-store.js";
import type { ModelRecords } from "./upstream/model-records.js";
import { deleteAbandonedVersion, findAbandonedVersions } from "./store/versions-store.js";

export interface JanitorOptions {
  readonly pool: Pool;
  readonly blobs: BlobStore;
  readonly logger: Logger;
  /** An upload idle this long is abandoned (GRANARY_REGISTRY_UPLOAD_TIMEOUT_MIN). */
  readonly uploadTimeoutMs: number;
  /** The metadata service's records of models, reconciled at start and after every sweep. */
  readonly records: ModelRecords;
}

export interface SweepResult {
  temporaryFiles: number;
  versions: number;
  blobs: number;
}

/**
 * Removes what interrupted uploads leave behind: temporary files, versions that never became
 * READY (with their artifacts), and blobs no artifact refers to — a crash between placing a blob
 * and committing its row, or a removal that failed. At start, every temporary file of this host
 * goes, since its uploads died with the previous process.
 */
export async function sweep(o: JanitorOptions, atStart: boolean): Promise<SweepResult> {
  const temporaryFiles = await o.blobs.sweepTemporary(o.uploadTimeoutMs, atStart);
  let versions = 0;
  for (const v of await findAbandonedVersions(o.pool, o.uploadTimeoutMs)) {
    if (!(await deleteAbandonedVersion(o.pool, v.project, v.model, v.version, o.uploadTimeoutMs))) continue;
    versions++;
    o.logger.info(v, "removed a version that never became READY");
  }
  // Also collects what the versions just removed referred to.
  let blobs = 0;
  const onDisk: string[] = [];
  for await (const digest of o.blobs.digests()) onDisk.push(digest);
  for (const digest of await unreferencedDigests(o.pool, onDisk)) {
    await collectQuietly(o, digest);
    blobs++;
  }
  return { temporaryFiles, versions, blobs };
}

/**
 * Reconciles the metadata service's records of models now (in the background: the registry serves
 * while the metadata service is away), then sweeps and reconciles every `intervalMs` until
 * stopped. A failed pass is logged and tried again next time.
 */
export function startJanitor(o: JanitorOptions, intervalMs: number): { stop(): Promise<void> } {
  const stopping = new AbortController();
  const reconcile = () =>
    reconcileModelRecords(o, stopping.signal).then(
      (r) => {
        if (r.recorded + r.forgotten + r.orphaned > 0) o.logger.info(r, "reconciled the metadata service's records of models");
      },
      (err: unknown) => {
        if (!stopping.signal.aborted) o.logger.warn({ err }, "could not reconcile the metadata service's records of models; trying again later");
      },
    );
  let running: Promise<unknown> = reconcile();
  const timer = setInterval(() => {
    running = running
      .then(() => sweep(o, false))
      .then(
        (r) => {
          if (r.temporaryFiles + r.versions + r.blobs > 0) o.logger.info(r, "registry sweep removed abandoned uploads");
        },
        (err: unknown) => o.logger.warn({ err }, "registry sweep failed; trying again later"),
      )
      .then(reconcile);
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      stopping.abort();
      await running;
    },
  };
}
