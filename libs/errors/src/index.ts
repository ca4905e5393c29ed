export {
  AbortedError,
  AlreadyExistsError,
  DataLossError,
  FailedPreconditionError,
  GranaryError,
  type FieldViolation,
  type GranaryErrorOptions,
  InvalidArgumentError,
  NotFoundError,
  OutOfRangeError,
  PermissionDeniedError,
  ResourceExhaustedError,
  UnauthenticatedError,
  UnavailableError,
  UnimplementedError,
} from "./granary-error.js";
export { ERROR_DOMAIN, INTERNAL_MESSAGE, errorInfoOf, isExpectedError, toConnectError } from "./to-connect-error.js";
