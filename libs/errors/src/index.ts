export {
  AbortedError,
  AlreadyExistsError,
  DataLossError,
  FailedPreconditionError,
  GranaryError,
  InvalidArgumentError,
  NotFoundError,
  OutOfRangeError,
  PermissionDeniedError,
  ResourceExhaustedError,
  UnauthenticatedError,
  UnavailableError,
  UnimplementedError,
} from "./granary-error.js";
export { INTERNAL_MESSAGE, isExpectedError, toConnectError } from "./to-connect-error.js";
