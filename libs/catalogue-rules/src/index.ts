// What a valid feature group and feature view are, and how a view resolves into what its readers
// need. The metadata service enforces these rules and is the only service that resolves views at
// run time; tests of the readers build their fixtures with the same code.
export {
  MUTABLE_GROUP_FIELDS,
  patchFeatureGroup,
  sameDefinition,
  validateAppendedColumns,
  validateFeatureGroup,
  validateTags,
  valueFitsType,
} from "./feature-group-rules.js";
export { collectGroupRefs, resolveFeatureView, type GroupLookup, type ResolvedFeatureView } from "./feature-view-resolver.js";
export { checkIdentifier } from "./names.js";
export { TRANSFORMATION_FUNCTIONS } from "./transformation-functions.js";
export {
  loggingFeatureGroup,
  loggingGroupName,
  loggingSchema,
  predictionColumn,
  requestParameterColumn,
  RESERVED_LOGGING_NAME,
  transformedColumn,
  type LoggingSchema,
} from "./logging-schema.js";
