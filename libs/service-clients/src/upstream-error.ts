import { Code, ConnectError } from "@connectrpc/connect";
import {
  AlreadyExistsError,
  FailedPreconditionError,
  GranaryError,
  InvalidArgumentError,
  NotFoundError,
  OutOfRangeError,
  UnavailableError,
} from "@granary/errors";

/** How a service reports a failed call to another one. */
export interface UpstreamPolicy {
  /** The service called, as messages name it: "the metadata service". */
  readonly service: string;
  /** What the call was for, as messages say it: "store statistics". */
  readonly what?: string;
  /** NOT_FOUND from upstream, in the caller's terms (default: NOT_FOUND with upstream's message). */
  readonly notFound?: (upstreamMessage: string, cause: unknown) => Error;
}

// Upstream cannot answer now, though it may later: the caller should retry.
const RETRYABLE = new Set([Code.Unavailable, Code.DeadlineExceeded, Code.ResourceExhausted, Code.Aborted, Code.Canceled]);
// connect-node reports some failed connections as INTERNAL with the socket error as a cause.
const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "EPIPE"]);

/**
 * The one mapping of errors from other Granary services. Answers about the request pass through
 * with their code (NOT_FOUND, INVALID_ARGUMENT, FAILED_PRECONDITION, ALREADY_EXISTS, OUT_OF_RANGE),
 * their message prefixed with the service that gave it. An upstream that is down, slow, overloaded or
 * unreachable becomes UNAVAILABLE naming it, so the caller retries. Upstream refusing this service's
 * own credentials is an operator's problem, reported as UNAVAILABLE with what to check, never as the
 * caller's UNAUTHENTICATED. Anything else (upstream's INTERNAL) stays as it is. Errors that are not
 * from a call (already typed, or a bug here) pass unchanged.
 */
export function translateUpstreamError(err: unknown, policy: UpstreamPolicy): unknown {
  if (err instanceof GranaryError) return err;
  const network = isNetworkFailure(err);
  if (!(err instanceof ConnectError) && !network) return err;
  const e = ConnectError.from(err);
  const doing = policy.what ? `could not ${policy.what}: ` : "";
  if (RETRYABLE.has(e.code) || network) return new UnavailableError(`${doing}${policy.service} is unavailable; retry later`, { cause: err });
  if (e.code === Code.Unauthenticated || e.code === Code.PermissionDenied) {
    return new UnavailableError(`${doing}${policy.service} refused this service's credentials (operators: check GRANARY_SERVICE_KEY)`, { cause: err });
  }
  const said = `${policy.service}: ${e.rawMessage}`;
  switch (e.code) {
    case Code.NotFound:
      return policy.notFound ? policy.notFound(e.rawMessage, err) : new NotFoundError(said, { cause: err });
    case Code.InvalidArgument:
      return new InvalidArgumentError(said, { cause: err });
    case Code.FailedPrecondition:
      return new FailedPreconditionError(said, { cause: err });
    case Code.AlreadyExists:
      return new AlreadyExistsError(said, { cause: err });
    case Code.OutOfRange:
      return new OutOfRangeError(said, { cause: err });
    default:
      return err;
  }
}

/** Runs a call to another service; its failure leaves translated by `translateUpstreamError`. */
export async function callUpstream<T>(call: () => Promise<T>, policy: UpstreamPolicy): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw translateUpstreamError(err, policy);
  }
}

function isNetworkFailure(err: unknown): boolean {
  // Duck-typed: an error made by Node itself may come from another realm (jest's vm contexts).
  for (let e: unknown = err, depth = 0; typeof e === "object" && e !== null && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && NETWORK_CODES.has(code)) return true;
  }
  return false;
}
