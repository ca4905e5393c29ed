import { once } from "node:events";
import { create, fromBinary, isMessage, toBinary, type DescMessage, type DescMethod, type DescService, type MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { headerStatusDetailsBin, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import * as grpc from "@grpc/grpc-js";
import type { Logger } from "@granary/telemetry";
import type { AccessControl, Principal } from "@granary/auth";
import { runWithCallDeadline } from "./call-deadline.js";
import { admit, admitted, auditCall, errorToSend, guardFor, logFailure, type Guard } from "./call-guard.js";
import { principalKey, handlerContextFor, SHUTTING_DOWN_MESSAGE, type CallContext, type SurfaceCall } from "./rpc-context.js";
import { runInContext, type StartRpcSpan } from "./rpc-telemetry.js";
import { preEncodedBytes, takePreEncodedBytes } from "./pre-encoded.js";
import { decodedRequest, requestDecoder } from "./request-decoder.js";
import { validateRequest } from "./request-validator.js";
import type { ServiceRegistration } from "./service-registration.js";

/** What every call of a server shares. */
export interface CallDeps {
  readonly logger: Logger;
  readonly access: AccessControl;
  readonly startSpan: StartRpcSpan;
  readonly shutdownSignal: AbortSignal;
  /**
   * The calls running now, each as a function that ends it at once with UNAVAILABLE: what shutdown
   * calls when its grace period is over, so a client sees "retry" instead of a broken connection.
   */
  readonly inFlight: Set<() => void>;
}

type AnyImpl = (input: unknown, ctx: HandlerContext) => unknown;

/**
 * Turns connect-style handlers into a grpc-js service: protobuf-es (de)serialisation, then for
 * every call the same pipeline — trace span, auth hook, protovalidate, handler, error mapping.
 * Methods without a handler are left out, so grpc-js answers UNIMPLEMENTED for them.
 */
export function toGrpcService(
  registration: ServiceRegistration,
  deps: CallDeps,
): { definition: grpc.ServiceDefinition; implementation: grpc.UntypedServiceImplementation } {
  const { service, impl } = registration;
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  const implementation: grpc.UntypedServiceImplementation = {};
  for (const method of service.methods) {
    const handler = impl[method.localName];
    if (typeof handler !== "function") continue;
    const fn = (handler as AnyImpl).bind(impl);
    definition[method.name] = {
      path: `/${service.typeName}/${method.name}`,
      originalName: method.localName,
      requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
      responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
      requestSerialize: (m: unknown) => toBuffer(method.input, m as MessageShape<DescMessage>),
      requestDeserialize: requestDecoder(method.input),
      responseSerialize: (m: unknown) => {
        // grpc-js copies what this returns into its frame at once (serializeMessage).
        const bytes = takePreEncodedBytes(m);
        return bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : toBuffer(method.output, m as MessageShape<DescMessage>);
      },
      responseDeserialize: (b: Buffer) => fromBinary(method.output, b),
    };
    implementation[method.name] = handlerFor(service, method, fn, deps);
  }
  return { definition: definition as grpc.ServiceDefinition, implementation };
}

function toBuffer(schema: DescMessage, message: MessageShape<DescMessage>): Buffer {
  const bytes = toBinary(schema, message);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function handlerFor(service: DescService, method: DescMethod, fn: AnyImpl, deps: CallDeps): grpc.UntypedHandleCall {
  const guard = guardFor(deps.access, service, method);
  switch (method.methodKind) {
    case "unary":
      return (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        void runCall(
          service,
          method,
          call,
          deps,
          guard,
          async (ctx, principal) => {
            const request = await admittedRequest(guard, principal, method, call.request, ctx);
            const response = normalize(method.output, await fn(request, ctx));
            sendHeaders(call, ctx);
            callback(null, response, trailerOf(ctx));
          },
          (err) => callback(err),
        );
      };
    case "server_streaming":
      return (call: grpc.ServerWritableStream<unknown, unknown>) => {
        void runCall(
          service,
          method,
          call,
          deps,
          guard,
          async (ctx, principal) => {
            const request = await admittedRequest(guard, principal, method, call.request, ctx);
            await writeAll(call, method, fn(request, ctx) as AsyncIterable<unknown>, ctx);
          },
          (err) => emitError(call, err),
        );
      };
    case "client_streaming":
      return (call: grpc.ServerReadableStream<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        void runCall(
          service,
          method,
          call,
          deps,
          guard,
          async (ctx, principal) => {
            const response = normalize(method.output, await fn(clientStream(guard, principal, method, call, ctx), ctx));
            sendHeaders(call, ctx);
            callback(null, response, trailerOf(ctx));
          },
          (err) => callback(err),
        );
      };
    case "bidi_streaming":
      return (call: grpc.ServerDuplexStream<unknown, unknown>) => {
        void runCall(
          service,
          method,
          call,
          deps,
          guard,
          async (ctx, principal) => {
            await writeAll(call, method, fn(clientStream(guard, principal, method, call, ctx), ctx) as AsyncIterable<unknown>, ctx);
          },
          (err) => emitError(call, err),
        );
      };
  }
}

/** A unary or server-streaming call's request, decoded, admitted by the permission table and validated. */
async function admittedRequest(guard: Guard, principal: Principal, method: DescMethod, raw: unknown, ctx: CallContext): Promise<unknown> {
  const request = decodedRequest(raw);
  const decision = admit(guard, principal, request, ctx.values);
  if (decision) await decision;
  validateRequest(method.input, request);
  return request;
}

/** The pipeline every call passes: span, context, authentication, handler, audit, error mapping, logging. */
async function runCall(
  service: DescService,
  method: DescMethod,
  call: SurfaceCall,
  deps: CallDeps,
  guard: Guard,
  body: (ctx: CallContext, principal: Principal) => Promise<void>,
  fail: (err: grpc.ServiceError) => void,
): Promise<void> {
  const rpc = deps.startSpan(service, method, call.metadata);
  const ctx = handlerContextFor(service, method, call, deps.shutdownSignal);
  let principal: Principal | undefined;
  // A call ended by shutdown has sent its status: what its handler throws afterwards is only logged.
  let ended = false;
  const endForShutdown = (): void => {
    ended = true;
    fail(toServiceError(new ConnectError(SHUTTING_DOWN_MESSAGE, Code.Unavailable)));
  };
  deps.inFlight.add(endForShutdown);
  try {
    // Stores reach the deadline through the async context (libs/postgres bounds its queries by it).
    const deadline = { deadlineMs: ctx.deadlineMs, signal: ctx.signal };
    await runInContext(rpc.context, () =>
      runWithCallDeadline(deadline, async () => {
        const authorization = call.metadata.get("authorization")[0];
        const found = deps.access.authenticate(typeof authorization === "string" ? authorization : undefined);
        principal = found instanceof Promise ? await found : found;
        ctx.values.set(principalKey, principal);
        await body(ctx, principal);
      }),
    );
    rpc.end(0);
    if (principal) auditCall(guard, principal, ctx.values, 0);
  } catch (err) {
    const connectErr = errorToSend(err, ctx.signal);
    rpc.end(connectErr.code, connectErr);
    runInContext(rpc.context, () => logFailure(deps.logger, guard.path, connectErr, err));
    if (principal && connectErr.code !== Code.Unauthenticated) auditCall(guard, principal, ctx.values, connectErr.code);
    if (!ended) fail(toServiceError(connectErr));
  } finally {
    deps.inFlight.delete(endForShutdown);
    ctx.abort();
  }
}

// The status message travels percent-encoded in the HTTP/2 trailers; past the peer's header-list
// limit (~64 KiB) the trailers are dropped and the client waits for its deadline instead of seeing
// the error (found by test/fuzz: 10,000 unknown columns named in one message). Capped well below it.
const MAX_STATUS_MESSAGE_CHARS = 2000;

/** The message as sent: whole when short, else its start and how much was cut (the log keeps it all). */
function boundedStatusMessage(message: string): string {
  if (message.length <= MAX_STATUS_MESSAGE_CHARS) return message;
  return `${message.slice(0, MAX_STATUS_MESSAGE_CHARS)}… (${message.length - MAX_STATUS_MESSAGE_CHARS} more characters)`;
}

// Error details (a google.rpc.Status in grpc-status-details-bin, what every gRPC client library
// reads) share the trailers' limit too; past this they are left out and the message says so.
const MAX_STATUS_DETAILS_BYTES = 32 * 1024;

function toServiceError(err: ConnectError): grpc.ServiceError {
  const metadata = metadataOf(err.metadata);
  let message = err.rawMessage;
  if (err.details.length > 0) {
    // connect-es encodes the standard google.rpc.Status (code, message, details as Any) for us.
    const encoded = setTrailerStatus(new Headers(), err).get(headerStatusDetailsBin);
    const bytes = encoded ? Buffer.from(encoded, "base64") : undefined;
    if (bytes && bytes.length <= MAX_STATUS_DETAILS_BYTES) metadata.set(headerStatusDetailsBin, bytes);
    else message += ` (its error details, ${bytes?.length ?? 0} bytes, were too large to send)`;
  }
  const details = boundedStatusMessage(message);
  return Object.assign(new Error(details), { code: err.code as number, details, metadata });
}

function normalize(schema: DescMessage, value: unknown): MessageShape<DescMessage> {
  if (preEncodedBytes(value)) return value as MessageShape<DescMessage>;
  return isMessage(value, schema) ? value : create(schema, value as never);
}

/** Writes a handler's responses, waiting for the client when its window is full; stops on abort. */
async function writeAll(
  call: grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>,
  method: DescMethod,
  responses: AsyncIterable<unknown>,
  ctx: CallContext,
): Promise<void> {
  let headersSent = false;
  for await (const response of responses) {
    ctx.signal.throwIfAborted();
    if (!headersSent) {
      sendHeaders(call, ctx);
      headersSent = true;
    }
    if (!call.write(normalize(method.output, response))) {
      await once(call, "drain", { signal: ctx.signal });
    }
  }
  ctx.signal.throwIfAborted();
  if (!headersSent) sendHeaders(call, ctx);
  call.end(trailerOf(ctx));
}

/** A client stream's messages, authorized on the first and validated one by one. */
function clientStream(
  guard: Guard,
  principal: Principal,
  method: DescMethod,
  call: grpc.ServerReadableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>,
  ctx: CallContext,
): AsyncIterable<MessageShape<DescMessage>> {
  // A plain `for await` destroys the call once the requests end, which would drop the responses of
  // a bidirectional call still writing: read it without destroying it.
  return admitted(guard, principal, method, call.iterator({ destroyOnReturn: false }), ctx.values, decodedRequest);
}

// A stream is ended with an error by emitting it: grpc-js turns the emitted status into trailers.
// (destroy(err) can leave a stream hanging.)
function emitError(call: SurfaceCall, err: grpc.ServiceError): void {
  call.emit("error", err);
}

function sendHeaders(call: SurfaceCall, ctx: CallContext): void {
  const headers = ctx.pending("header");
  if (headers) call.sendMetadata(metadataOf(headers));
}

function trailerOf(ctx: CallContext): grpc.Metadata | undefined {
  const trailer = ctx.pending("trailer");
  return trailer ? metadataOf(trailer) : undefined;
}

function metadataOf(headers: Headers): grpc.Metadata {
  const md = new grpc.Metadata();
  headers.forEach((value, key) => {
    if (key.endsWith("-bin")) md.add(key, Buffer.from(value, "base64"));
    else md.add(key, value);
  });
  return md;
}
