/** A model as the metadata service records it: `registryId` is the models row's id, as text. */
export interface ModelRecord {
  readonly project: string;
  readonly model: string;
  readonly registryId: string;
}

/**
 * The metadata service's record of the models the registry holds, which keeps DeleteProject from
 * deleting a project that still has models (metadata never calls the registry, so the registry
 * tells it). A model is recorded before its row commits and forgotten after its deletion commits;
 * `reconcileModelRecords` mends what a crash between the two left. `record` fails with
 * FAILED_PRECONDITION for a project the metadata service does not have, and every call with
 * UNAVAILABLE when it cannot be asked.
 */
export interface ModelRecords {
  /** Idempotent; replaces a record of the same name naming another registry id. */
  record(model: ModelRecord, signal?: AbortSignal): Promise<void>;
  /** Idempotent; leaves a record that names another registry id. */
  forget(model: ModelRecord, signal?: AbortSignal): Promise<void>;
  /** Every record, of every project. */
  list(signal?: AbortSignal): Promise<ModelRecord[]>;
}
