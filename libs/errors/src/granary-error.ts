import { Code } from "@connectrpc/connect";

/**
 * An error that knows its gRPC status. Domain code throws the subclasses; the server maps them to
 * statuses in one place. The message goes on the wire, so it must be something a user can act on;
 * `cause` stays in the logs.
 */
export class GranaryError extends Error {
  readonly code: Code;
  /**
   * Why, for programs: an UPPER_SNAKE_CASE reason sent as the google.rpc.ErrorInfo detail (domain
   * "granary.dev") on every protocol. Default: the status code's name, such as NOT_FOUND.
   */
  readonly reasonCode: string | undefined;
  /** Facts about this occurrence, sent as ErrorInfo.metadata (never secrets: they reach the caller). */
  readonly metadata: Readonly<Record<string, string>> | undefined;

  constructor(code: Code, message: string, options?: GranaryErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
    this.reasonCode = options?.reason;
    this.metadata = options?.metadata;
  }
}

export interface GranaryErrorOptions {
  readonly cause?: unknown;
  readonly reason?: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

/** One field at fault, sent in a google.rpc.BadRequest detail. */
export interface FieldViolation {
  readonly field: string;
  readonly description: string;
  /** The rule that failed, such as "string.pattern". */
  readonly reason?: string;
}

export class InvalidArgumentError extends GranaryError {
  /** The request field at fault, such as `feature_group.columns[2].name`. */
  readonly field: string | undefined;
  /** Every field at fault (validation reports them all); else the one `field`, described by the message. */
  readonly violations: readonly FieldViolation[];

  constructor(message: string, options?: GranaryErrorOptions & { field?: string; violations?: readonly FieldViolation[] }) {
    super(Code.InvalidArgument, message, options);
    this.field = options?.field ?? options?.violations?.[0]?.field;
    this.violations = options?.violations ?? (options?.field === undefined ? [] : [{ field: options.field, description: message }]);
  }
}

export class NotFoundError extends GranaryError {
  constructor(message: string, options?: GranaryErrorOptions) {
    super(Code.NotFound, message, options);
  }
}

export class AlreadyExistsError extends GranaryError {
  constructor(message: string, options?: GranaryErrorOptions) {
    super(Code.AlreadyExists, message, options);
  }
}

export class FailedPreconditionError extends GranaryError {
  constructor(message: string, options?: GranaryErrorOptions) {
    super(Code.FailedPrecondition, message, options);
  }
}

/** A concurrent modification: a stale etag, a lost race. The caller may re-read and retry. */
export class AbortedError extends GranaryError {
  constructor(message: string, options?: GranaryErrorOptions) {
    super(Code.Aborted, message, options);
  }
}

export class OutOfRangeError extends GranaryError {
  constructor(message: string, options?: GranaryErrorOptions) {
    super(Code.OutOfRange, message, options);
  }
}

/** A dependency (database, another service) is down; retrying later may succeed. */
export class UnavailableError extends GranaryError {
  constructor(message: string, options?: GranaryErrorOptions) {
    super(Code.Unavailable, message, options);
  }
}

export class ResourceExhaustedError extends GranaryError {
  constructor(message: string, options?: GranaryErrorOptions) {
    super(Code.ResourceExhausted, message, options);
  }
}

export class DataLossError extends GranaryError {
  constructor(message: string, options?: GranaryErrorOptions) {
    super(Code.DataLoss, message, options);
  }
}

export class UnauthenticatedError extends GranaryError {
  constructor(message: string, options?: GranaryErrorOptions) {
    super(Code.Unauthenticated, message, options);
  }
}

export class PermissionDeniedError extends GranaryError {
  constructor(message: string, options?: GranaryErrorOptions) {
    super(Code.PermissionDenied, message, options);
  }
}

export class UnimplementedError extends GranaryError {
  constructor(message: string, options?: GranaryErrorOptions) {
    super(Code.Unimplemented, message, options);
  }
}
