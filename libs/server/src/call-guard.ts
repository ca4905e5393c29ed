import type { DescMessage, DescMethod, DescService, MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextKey, type ContextValues } from "@connectrpc/connect";
import type { AccessControl, Permission, Principal } from "@granary/auth";
import { GranaryError, isExpectedError, toConnectError } from "@granary/errors";
import type { Logger } from "@granary/telemetry";
import { validateRequest } from "./request-validator.js";

// The steps of the call pipeline that decide what a handler sees and what a caller gets back,
// shared by the grpc-js adapter (grpc-handlers.ts) and the in-process transport (in-process.ts),
// so the two cannot drift apart.

/** What a method needs, looked up once when the service is registered. */
export interface Guard {
  readonly path: string;
  readonly permission: Permission | undefined;
  readonly access: AccessControl;
}

export function guardFor(access: AccessControl, service: DescService, method: DescMethod): Guard {
  const path = `${service.typeName}/${method.name}`;
  return { path, permission: access.permission(path), access };
}

/** The request (a stream's first message) the call was authorized on: the audit entry names it. */
const firstMessageKey = createContextKey<unknown>(undefined, { description: "granary authorized request" });

/**
 * Authorizes a call on its request (a stream's first message), remembered for the audit entry.
 * Synchronous when the caller's role decides, so the online hot path awaits nothing here.
 */
export function admit(guard: Guard, principal: Principal, request: unknown, values: ContextValues): void | Promise<void> {
  values.set(firstMessageKey, request);
  return guard.access.authorize(principal, guard.path, guard.permission, request);
}

/**
 * A client stream's messages, authorized on the first and validated one by one. `decode` turns
 * what the transport delivers into the message (the grpc-js adapter's may carry a decoding error).
 */
export async function* admitted(
  guard: Guard,
  principal: Principal,
  method: DescMethod,
  messages: AsyncIterable<unknown>,
  values: ContextValues,
  decode: (message: unknown) => MessageShape<DescMessage>,
): AsyncIterable<MessageShape<DescMessage>> {
  let first = true;
  for await (const message of messages) {
    const request = decode(message);
    if (first) {
      first = false;
      await admit(guard, principal, request, values);
    }
    validateRequest(method.input, request);
    yield request;
  }
  // A stream that ends before its first message is still refused to a caller without access.
  if (first) await admit(guard, principal, undefined, values);
}

/** Records the outcome of a call (only calls that change something are audited; see @granary/auth). */
export function auditCall(guard: Guard, principal: Principal, values: ContextValues, code: Code | 0): void {
  guard.access.audit(principal, guard.path, guard.permission, values.get(firstMessageKey), code);
}

/**
 * The error a failed call sends. A handler that stops because its call was aborted often throws a
 * bare AbortError: report why the call was aborted (deadline, cancellation, shutdown) instead.
 */
export function errorToSend(thrown: unknown, signal: AbortSignal): ConnectError {
  const typed = thrown instanceof GranaryError || thrown instanceof ConnectError;
  return toConnectError(signal.aborted && !typed ? signal.reason : thrown);
}

export function logFailure(logger: Logger, path: string, sent: ConnectError, thrown: unknown): void {
  if (isExpectedError(thrown) && sent.code !== Code.Internal) {
    logger.debug({ rpc: path, code: Code[sent.code], msg_sent: sent.rawMessage }, "rpc failed");
  } else {
    logger.error({ rpc: path, code: Code[sent.code], err: thrown }, "rpc failed with an unexpected error");
  }
}
