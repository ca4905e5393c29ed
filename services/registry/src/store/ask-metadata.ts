import { Code, ConnectError } from "@connectrpc/connect";
import { FailedPreconditionError, UnavailableError } from "@granary/errors";

// Codes under which the metadata service cannot answer now, though it may later.
const UNAVAILABLE_CODES = new Set([Code.Unavailable, Code.DeadlineExceeded, Code.ResourceExhausted, Code.Aborted]);
// connect-node reports some failed connections as INTERNAL with the socket error as a cause.
const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "EPIPE"]);

/**
 * Runs a metadata call, turning its failure into what the registry's caller should see: NOT_FOUND
 * becomes FAILED_PRECONDITION with `notFound`, an unreachable service UNAVAILABLE.
 */
export async function askMetadata<T>(call: () => Promise<T>, notFound: string): Promise<T> {
  try {
    return await call();
  } catch (err) {
    const e = ConnectError.from(err);
    if (e.code === Code.NotFound) throw new FailedPreconditionError(notFound, { cause: err });
    if (UNAVAILABLE_CODES.has(e.code) || isNetworkFailure(err)) throw new UnavailableError("the metadata service is unavailable; retry later", { cause: err });
    if (e.code === Code.FailedPrecondition || e.code === Code.InvalidArgument) {
      throw new FailedPreconditionError(`the metadata service refused: ${e.rawMessage}`, { cause: err });
    }
    throw err;
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
