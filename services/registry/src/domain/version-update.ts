import { clone } from "@bufbuild/protobuf";
import { FailedPreconditionError, InvalidArgumentError } from "@granary/errors";
import { ModelVersionSchema, type ModelVersion } from "@granary/proto/registry";

/** May change at any time. */
export const ALWAYS_MUTABLE = ["description", "tags"] as const;
/** May change while artifacts are uploaded; frozen once READY, as what serves must not move. */
export const MUTABLE_WHILE_UPLOADING = ["framework", "metrics", "parameters", "schema", "input_example"] as const;
/** Recorded as lineage in metadata when the version was created: a different one is a new version. */
export const LINEAGE_FIELDS = ["feature_view", "training_dataset_version"] as const;

/**
 * The version after an UpdateModelVersion: the fields named by the mask (description and tags
 * without one) taken from `patch`. Metrics, parameters, schema, framework and input example change
 * only while the version is UPLOADING; the feature view and training dataset never do.
 */
export function patchVersion(current: ModelVersion, patch: ModelVersion, paths: readonly string[], ready: boolean): ModelVersion {
  const fields = paths.length === 0 ? ALWAYS_MUTABLE : paths;
  const next = clone(ModelVersionSchema, current);
  const source = clone(ModelVersionSchema, patch);
  for (const path of fields) {
    if ((LINEAGE_FIELDS as readonly string[]).includes(path)) {
      throw new FailedPreconditionError(`${path} of version ${current.version} is recorded as lineage and cannot change; create a new version`);
    }
    if ((MUTABLE_WHILE_UPLOADING as readonly string[]).includes(path) && ready) {
      throw new FailedPreconditionError(`${path} of version ${current.version} cannot change once it is READY; create a new version`);
    }
    switch (path) {
      case "description":
        next.description = source.description;
        break;
      case "tags":
        next.tags = source.tags;
        break;
      case "framework":
        next.framework = source.framework;
        break;
      case "metrics":
        next.metrics = source.metrics;
        break;
      case "parameters":
        next.parameters = source.parameters;
        break;
      case "schema":
        next.schema = source.schema;
        break;
      case "input_example":
        next.inputExample = source.inputExample;
        break;
      default:
        throw new InvalidArgumentError(
          `update_mask: "${path}" cannot be updated; a version's ${[...ALWAYS_MUTABLE, ...MUTABLE_WHILE_UPLOADING].join(", ")} can (the last five while UPLOADING)`,
          { field: "update_mask" },
        );
    }
  }
  return next;
}
