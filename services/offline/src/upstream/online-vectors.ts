import type { Client } from "@connectrpc/connect";
import type { FeatureVectors, OnlineService } from "@granary/proto/online";
import type { FeatureViewRef, NamedColumn } from "@granary/proto/types";
import { callUpstream } from "@granary/service-clients";

export interface OnlineVectorsRequest {
  readonly project: string;
  readonly featureView: FeatureViewRef;
  /** With a model: its feature view and its training dataset's transformations. */
  readonly model?: { readonly name: string; readonly version: number; readonly alias: string } | undefined;
  readonly rowCount: number;
  readonly servingKeys: readonly NamedColumn[];
  readonly requestParameters: readonly NamedColumn[];
}

export interface OnlineVectorsResult {
  readonly vectors: FeatureVectors;
  /** The view and versions a model resolved to; the request's view and 0 without a model. */
  readonly featureView: FeatureViewRef;
  readonly modelVersion: number;
  readonly trainingDatasetVersion: number;
}

/** What the consistency check asks of the online service: vectors with their event times. */
export interface OnlineVectors {
  read(request: OnlineVectorsRequest, signal: AbortSignal): Promise<OnlineVectorsResult>;
}

/**
 * The online service over gRPC, called with this service's own key: the caller was authorised
 * for the project before the check started, and online reads are what the check is for.
 */
export function onlineVectors(client: Client<typeof OnlineService>, timeoutMs = 30_000): OnlineVectors {
  return {
    read: (r, signal) => callUpstream(() => readVectors(client, r, signal, timeoutMs), { service: "the online service", what: "read feature vectors" }),
  };
}

async function readVectors(
  client: Client<typeof OnlineService>,
  r: OnlineVectorsRequest,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<OnlineVectorsResult> {
  const entities = { rowCount: r.rowCount, servingKeys: [...r.servingKeys], requestParameters: [...r.requestParameters] };
  if (r.model) {
    const res = await client.getModelFeatureVectors(
      {
        project: r.project,
        model: r.model.name,
        modelVersion: r.model.alias ? { case: "alias", value: r.model.alias } : { case: "version", value: r.model.version },
        entities,
        options: { includeEventTimes: true },
      },
      { timeoutMs, signal },
    );
    return { vectors: res.vectors!, featureView: res.featureView!, modelVersion: res.modelVersion, trainingDatasetVersion: res.trainingDatasetVersion };
  }
  const res = await client.getFeatureVectors(
    { project: r.project, featureView: r.featureView, entities, options: { includeEventTimes: true, untransformed: true } },
    { timeoutMs, signal },
  );
  return { vectors: res.vectors!, featureView: r.featureView, modelVersion: 0, trainingDatasetVersion: 0 };
}
