import type { FeatureViewRef } from "@granary/proto/types";

/** What a version was trained on, as the metadata service knows it. */
export interface TrainedOn {
  readonly project: string;
  readonly featureView: FeatureViewRef;
  /** 0: trained on the view without a recorded training dataset. */
  readonly trainingDatasetVersion: number;
}

/**
 * The registry's view of the feature store: does what a version claims to be trained on exist,
 * and record that it was. Both fail with FAILED_PRECONDITION for unknown resources and
 * UNAVAILABLE when the feature store cannot be asked.
 */
export interface FeatureLineage {
  checkTrainedOn(trainedOn: TrainedOn, signal?: AbortSignal): Promise<void>;
  /** Records training dataset → model version. Nothing to record without a training dataset. */
  recordModelVersion(trainedOn: TrainedOn, model: string, version: number, signal?: AbortSignal): Promise<void>;
  /** Releases a deleted version's edges (training dataset → model version), so its datasets can be deleted. Idempotent. */
  releaseModelVersion(project: string, model: string, version: number, signal?: AbortSignal): Promise<void>;
}
