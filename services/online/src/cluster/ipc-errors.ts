import {
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
} from "@granary/errors";

/** An error as it crosses from the primary to a worker: enough to rebuild the same class. */
export interface WireError {
  readonly name: string;
  readonly code?: number;
  readonly message: string;
  readonly field?: string;
}

type Rebuild = (message: string, field: string | undefined) => GranaryError;

// By class name: the code alone cannot tell a subclass a caller may test with instanceof.
const REBUILD: ReadonlyMap<string, Rebuild> = new Map<string, Rebuild>([
  ["InvalidArgumentError", (m, field) => new InvalidArgumentError(m, field === undefined ? {} : { field })],
  ["NotFoundError", (m) => new NotFoundError(m)],
  ["AlreadyExistsError", (m) => new AlreadyExistsError(m)],
  ["FailedPreconditionError", (m) => new FailedPreconditionError(m)],
  ["AbortedError", (m) => new AbortedError(m)],
  ["OutOfRangeError", (m) => new OutOfRangeError(m)],
  ["UnavailableError", (m) => new UnavailableError(m)],
  ["ResourceExhaustedError", (m) => new ResourceExhaustedError(m)],
  ["DataLossError", (m) => new DataLossError(m)],
  ["UnauthenticatedError", (m) => new UnauthenticatedError(m)],
  ["PermissionDeniedError", (m) => new PermissionDeniedError(m)],
  ["UnimplementedError", (m) => new UnimplementedError(m)],
]);

/**
 * What the primary sends for a failed call. A GranaryError keeps its class, code and message (the
 * message is already one for callers); anything else keeps only its message, which the worker's
 * error mapping turns into INTERNAL without showing it. The cause stays in the primary's log.
 */
export function errorToWire(err: unknown): WireError {
  if (err instanceof GranaryError) {
    const field = err instanceof InvalidArgumentError ? err.field : undefined;
    return { name: err.name, code: err.code, message: err.message, ...(field === undefined ? {} : { field }) };
  }
  return { name: "Error", message: err instanceof Error ? err.message : String(err) };
}

/** The worker's side of errorToWire: the same GranaryError subclass, so callers get the same gRPC status. */
export function errorFromWire(wire: WireError): Error {
  const rebuild = REBUILD.get(wire.name);
  if (rebuild) return rebuild(wire.message, wire.field);
  if (wire.code !== undefined) return new GranaryError(wire.code, wire.message);
  return new Error(wire.message);
}
