import type { Client } from "@connectrpc/connect";
import { LineageNodeKind, type MetadataService } from "@granary/proto/metadata";
import { askMetadata as ask } from "./ask-metadata.js";
import type { FeatureLineage, TrainedOn } from "./feature-lineage.js";

/** FeatureLineage through the metadata service's gRPC API. */
export function createMetadataLineage(metadata: Client<typeof MetadataService>): FeatureLineage {
  return {
    async checkTrainedOn(t, signal) {
      const view = `feature view "${t.featureView.name}" version ${t.featureView.version}`;
      await ask(
        () => metadata.getFeatureView({ project: t.project, name: t.featureView.name, version: t.featureView.version }, { signal }),
        `${view} does not exist in project "${t.project}"`,
      );
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
