import { Code, ConnectError } from "@connectrpc/connect";
import { GranaryError } from "./granary-error.js";

/** The message sent for any error we did not anticipate; the cause is logged, never sent. */
export const INTERNAL_MESSAGE = "internal error; the server logged the details";

/**
 * Maps anything thrown by a handler to the error sent on the wire. Typed errors keep their code and
 * message; connect errors raised on purpose pass through; everything else becomes INTERNAL with a
 * generic message, so no stack, SQL or driver text ever reaches a client.
 */
export function toConnectError(err: unknown): ConnectError {
  if (err instanceof GranaryError) {
    return new ConnectError(err.message, err.code, undefined, undefined, err);
  }
  if (err instanceof ConnectError) {
    if (err.code === Code.Internal || err.code === Code.Unknown) {
      return new ConnectError(INTERNAL_MESSAGE, Code.Internal, undefined, undefined, err);
    }
    return err;
  }
  return new ConnectError(INTERNAL_MESSAGE, Code.Internal, undefined, undefined, err);
}

/** True when the error is one we expected (a client mistake or a known condition), not a bug. */
export function isExpectedError(err: unknown): boolean {
  const code = err instanceof GranaryError ? err.code : err instanceof ConnectError ? err.code : Code.Internal;
  return code !== Code.Internal && code !== Code.Unknown && code !== Code.DataLoss;
}
