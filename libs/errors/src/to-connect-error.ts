import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { BadRequestSchema, ErrorInfoSchema, type ErrorInfo } from "@granary/proto/rpc";
import { GranaryError, InvalidArgumentError } from "./granary-error.js";

/** The message sent for any error we did not anticipate; the cause is logged, never sent. */
export const INTERNAL_MESSAGE = "internal error; the server logged the details";

/** The google.rpc.ErrorInfo domain of every reason Granary sends. */
export const ERROR_DOMAIN = "granary.dev";

/**
 * Maps anything thrown by a handler to the error sent on the wire. Typed errors keep their code and
 * message; connect errors raised on purpose pass through; everything else becomes INTERNAL with a
 * generic message, so no stack, SQL or driver text ever reaches a client.
 *
 * Every error carries the standard google.rpc details, which gRPC, Connect and gRPC-Web clients
 * all decode (grpc-status-details-bin; the Connect error body's "details"): an ErrorInfo (reason,
 * domain "granary.dev", metadata) and, for a request with fields at fault, a BadRequest listing them.
 */
export function toConnectError(err: unknown): ConnectError {
  if (err instanceof GranaryError) {
    const details: ConstructorParameters<typeof ConnectError>[3] & object = [
      { desc: ErrorInfoSchema, value: errorInfo(err.reasonCode ?? reasonOf(err.code), err.metadata) },
    ];
    if (err instanceof InvalidArgumentError && err.violations.length > 0) {
      details.push({
        desc: BadRequestSchema,
        value: { fieldViolations: err.violations.map((v) => ({ field: v.field, description: v.description, reason: v.reason ?? "" })) },
      });
    }
    return new ConnectError(err.message, err.code, undefined, details, err);
  }
  if (err instanceof ConnectError) {
    if (err.code === Code.Internal || err.code === Code.Unknown) return internal(err);
    if (err.details.length > 0) return err;
    return new ConnectError(err.rawMessage, err.code, err.metadata, [{ desc: ErrorInfoSchema, value: errorInfo(reasonOf(err.code)) }], err);
  }
  return internal(err);
}

function internal(cause: unknown): ConnectError {
  return new ConnectError(INTERNAL_MESSAGE, Code.Internal, undefined, [{ desc: ErrorInfoSchema, value: errorInfo("INTERNAL_ERROR") }], cause);
}

function errorInfo(reason: string, metadata?: Readonly<Record<string, string>>): ErrorInfo {
  return create(ErrorInfoSchema, { reason, domain: ERROR_DOMAIN, metadata: metadata ? { ...metadata } : {} });
}

/** A status code's name as a reason: NOT_FOUND, FAILED_PRECONDITION, … */
function reasonOf(code: Code): string {
  return (Code[code] ?? "UNKNOWN").replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
}

/** The ErrorInfo among an error's details, decoded; undefined without one. */
export function errorInfoOf(err: ConnectError): ErrorInfo | undefined {
  return err.findDetails(ErrorInfoSchema)[0];
}

/** True when the error is one we expected (a client mistake or a known condition), not a bug. */
export function isExpectedError(err: unknown): boolean {
  const code = err instanceof GranaryError ? err.code : err instanceof ConnectError ? err.code : Code.Internal;
  return code !== Code.Internal && code !== Code.Unknown && code !== Code.DataLoss;
}
