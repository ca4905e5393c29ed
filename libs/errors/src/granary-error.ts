import { Code } from "@connectrpc/connect";

/**
 * An error that knows its gRPC status. Domain code throws the subclasses; the server maps them to
 * statuses in one place. The message goes on the wire, so it must be something a user can act on;
 * `cause` stays in the logs.
 */
export class GranaryError extends Error {
  readonly code: Code;

  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

export class InvalidArgumentError extends GranaryError {
  /** The request field at fault, such as `feature_group.columns[2].name`. */
  readonly field: string | undefined;

  constructor(message: string, options?: { field?: string; cause?: unknown }) {
    super(Code.InvalidArgument, message, options);
    this.field = options?.field;
  }
}

export class NotFoundError extends GranaryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(Code.NotFound, message, options);
  }
}

export class AlreadyExistsError extends GranaryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(Code.AlreadyExists, message, options);
  }
}

export class FailedPreconditionError extends GranaryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(Code.FailedPrecondition, message, options);
  }
}

/** A concurrent modification: a stale etag, a lost race. The caller may re-read and retry. */
export class AbortedError extends GranaryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(Code.Aborted, message, options);
  }
}

export class OutOfRangeError extends GranaryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(Code.OutOfRange, message, options);
  }
}

/** A dependency (database, another service) is down; retrying later may succeed. */
export class UnavailableError extends GranaryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(Code.Unavailable, message, options);
  }
}

export class ResourceExhaustedError extends GranaryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(Code.ResourceExhausted, message, options);
  }
}

export class DataLossError extends GranaryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(Code.DataLoss, message, options);
  }
}

export class UnauthenticatedError extends GranaryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(Code.Unauthenticated, message, options);
  }
}

export class PermissionDeniedError extends GranaryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(Code.PermissionDenied, message, options);
  }
}

export class UnimplementedError extends GranaryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(Code.Unimplemented, message, options);
  }
}
