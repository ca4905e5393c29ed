import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { FailedPreconditionError, UnavailableError } from "@granary/errors";
import { LineageNodeKind, type MetadataService } from "@granary/proto/metadata";
import type { FeatureLineage, TrainedOn } from "./feature-lineage.js";

// Codes under which the metadata service cannot answer now, though it may later.
const UNAVAILABLE_CODES = new Set([Code.Unavailable, Code.DeadlineExceeded, Code.ResourceExhausted, Code.Aborted]);
// connect-node reports some failed connections as INTERNAL with the socket error as a cause.
const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "EPIPE"]);

/** FeatureLineage through the metadata service's gRPC API. */
export function createMetadataLineage(metadata: Client<typeof MetadataService>): FeatureLineage {
  return {
    async checkTrainedOn(t, signal) {
      const view = `feature view "${t.featureView.name}" version ${t.featureView.version}`;
      await ask(() => metadata.getFeatureView({ project: t.project, name: t.featureView.name, version: t.featureView.version }, { signal }), `${view} does not exist in project "${t.project}"`);
      if (t.trainingDatasetVersion > 0) {
        await ask(
          () => metadata.getTrainingDataset({ project: t.project, featureView: t.featureView, version: t.trainingDatasetVersion }, { signal }),
          `training dataset version ${t.trainingDatasetVersion} of ${view} does not exist in project "${t.project}"`,
        );
      }
    },

    async recordModelVersion(t, model, version, signal) {
      if (t.trainingDatasetVersion === 0) return;
      const edge = {
        from: { kind: LineageNodeKind.TRAINING_DATASET, name: t.featureView.name, version: t.featureView.version, datasetVersion: t.trainingDatasetVersion },
        to: { kind: LineageNodeKind.MODEL_VERSION, name: model, version },
      };
      await ask(() => metadata.createLineageEdge({ project: t.project, edge }, { signal }), `project "${t.project}" does not exist in the metadata service`);
    },

    async releaseModelVersion(project, model, version, signal) {
      await ask(() => metadata.releaseModelVersion({ project, model, version }, { signal }), `project "${project}" does not exist in the metadata service`);
    },
  };
}

/** Runs a metadata call, turning its failure into what the registry's caller should see. */
async function ask(call: () => Promise<unknown>, notFound: string): Promise<void> {
  try {
    await call();
  } catch (err) {
    const e = ConnectError.from(err);
    if (e.code === Code.NotFound) throw new FailedPreconditionError(notFound, { cause: err });
    if (UNAVAILABLE_CODES.has(e.code) || isNetworkFailure(err)) throw new UnavailableError("the metadata service is unavailable; retry later", { cause: err });
    if (e.code === Code.FailedPrecondition || e.code === Code.InvalidArgument) {
      throw new FailedPreconditionError(`the metadata service refused: ${e.rawMessage}`, { cause: err });
    }
    throw err;
  }
}

function isNetworkFailure(err: unknown): boolean {
  // Duck-typed: an error made by Node itself may come from another realm (jest's vm contexts).
  for (let e: unknown = err, depth = 0; typeof e === "object" && e !== null && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && NETWORK_CODES.has(code)) return true;
  }
  return false;
}
