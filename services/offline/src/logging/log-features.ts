import type { CatalogueCache } from "@granary/catalogue-cache";
import { loggingGroupName, loggingSchema } from "@granary/catalogue-rules";
import { UnavailableError } from "@granary/errors";
import type { FeatureGroup, FeatureView } from "@granary/proto/metadata";
import type { LogFeaturesRequest, LogFeaturesResponse } from "@granary/proto/offline";
import { timestampMicros } from "../timestamps.js";
import { arrowOfColumnarRows } from "../write/columnar-rows.js";
import { insertRows, type InsertDeps } from "../write/insert-rows.js";
import { logRows } from "./log-rows.js";

export interface LogFeaturesDeps extends InsertDeps {
  readonly catalogue: CatalogueCache;
}

/** How long LogFeatures waits for a logging group it just had created to reach this service's catalogue. */
const CATALOGUE_WAIT_MS = 10_000;

/**
 * LogFeatures: the vectors checked and shaped against the view's logging schema (nothing is created
 * or written for a bad request), the logging group got or created through the metadata service
 * (EnableFeatureLogging, with this service's key), then one commit through the insert path, so
 * validation rules, statistics and lineage apply as to any group.
 */
export async function logFeatures(deps: LogFeaturesDeps, view: FeatureView, req: LogFeaturesRequest, signal?: AbortSignal): Promise<LogFeaturesResponse> {
  const logTime = req.logTime ? timestampMicros(req.logTime) : BigInt(Date.now()) * 1000n;
  const rows = logRows(req, loggingSchema(view), logTime);
  const group = await loggingGroupOf(deps, view, signal);
  async function* chunks() {
    yield arrowOfColumnarRows(rows, group.columns);
  }
  const inserted = await insertRows(deps, req.project, group, chunks(), signal);
  return {
    $typeName: "granary.offline.v1.LogFeaturesResponse",
    loggedCount: BigInt(rows.rowCount),
    commitId: inserted.commitId,
    loggingFeatureGroup: { $typeName: "granary.types.v1.FeatureGroupRef", name: group.name, version: group.version },
  };
}

/** The view's logging group from the catalogue, created first if the view has none yet. */
async function loggingGroupOf(deps: LogFeaturesDeps, view: FeatureView, signal?: AbortSignal): Promise<FeatureGroup> {
  const name = loggingGroupName(view.name, view.version);
  const cached = deps.catalogue.featureGroup(view.project, name, 1);
  if (cached) return cached;
  const { group } = await deps.metadata.enableFeatureLogging(view.project, {
    $typeName: "granary.types.v1.FeatureViewRef",
    name: view.name,
    version: view.version,
  });
  // Reads and commit bookkeeping find groups through the catalogue: wait until the watch brings it.
  const deadline = Date.now() + CATALOGUE_WAIT_MS;
  while (!deps.catalogue.featureGroup(view.project, group.name, group.version)) {
    if (Date.now() > deadline || signal?.aborted) {
      throw new UnavailableError(`the logging feature group "${group.name}" was created but has not reached the offline service's catalogue yet; retry`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return group;
}
