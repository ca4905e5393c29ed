import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextKey, createContextValues, type ContextValues, type HandlerContext } from "@connectrpc/connect";
import type * as grpc from "@grpc/grpc-js";
import { NOBODY, type Principal } from "@granary/auth";

/** What every kind of grpc-js server call has (grpc-js does not export its own name for it). */
export interface SurfaceCall {
  readonly metadata: grpc.Metadata;
  getDeadline(): Date | number;
  getPeer(): string;
  sendMetadata(metadata: grpc.Metadata): void;
  once(event: "cancelled", listener: () => void): unknown;
  emit(event: "error", err: unknown): boolean;
}

/**
 * Handlers read the caller with `ctx.values.get(principalKey)`; set for every call before its
 * handler runs. The default is nobody (no role anywhere), never an admin: fail closed.
 */
export const principalKey = createContextKey<Principal>(NOBODY, { description: "granary principal" });

/** What a call cut short by shutdown is told: another replica, or this one restarted, can take it. */
export const SHUTTING_DOWN_MESSAGE = "server is shutting down; retry";

/** A connect HandlerContext, plus what the server needs to finish the call. */
export type CallContext = HandlerContext & {
  /** When the caller stops waiting, in epoch milliseconds; undefined without a deadline. */
  readonly deadlineMs: number | undefined;
  abort(reason?: unknown): void;
  /** Response headers or trailers the handler set; undefined when it set none (the usual case). */
  pending(which: "header" | "trailer"): Headers | undefined;
};

/** Why a call's signal is aborted once the call is over (what a handler still listening sees). */
const CALL_ENDED = new ConnectError("the call has ended", Code.Canceled);

/**
 * Builds the connect HandlerContext for a grpc-js call: deadline, cancellation and shutdown feed
 * one abort signal. Headers are built only when a handler reads them: connect's own
 * createHandlerContext costs ~20 µs a call, too much for the online lookup path.
 */
export function handlerContextFor(service: DescService, method: DescMethod, call: SurfaceCall, shutdownSignal: AbortSignal): CallContext {
  const controller = new AbortController();
  const deadline = call.getDeadline();
  const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
  let timer: NodeJS.Timeout | undefined;
  if (Number.isFinite(deadlineMs)) {
    const abortAtDeadline = () => controller.abort(new ConnectError("the deadline was exceeded", Code.DeadlineExceeded));
    timer = setTimeout(abortAtDeadline, Math.max(0, deadlineMs - Date.now()));
  }
  const onShutdown = () => controller.abort(new ConnectError(SHUTTING_DOWN_MESSAGE, Code.Unavailable));
  if (shutdownSignal.aborted) onShutdown();
  else shutdownSignal.addEventListener("abort", onShutdown, { once: true });
  // grpc-js also emits "cancelled" when a finished call's stream closes: build the error only when it matters.
  call.once("cancelled", () => {
    if (!controller.signal.aborted) controller.abort(new ConnectError("the client cancelled the call", Code.Canceled));
  });
  let requestHeader: Headers | undefined;
  let responseHeader: Headers | undefined;
  let responseTrailer: Headers | undefined;
  const values = createContextValues();
  return {
    service,
    method,
    deadlineMs: Number.isFinite(deadlineMs) ? deadlineMs : undefined,
    signal: controller.signal,
    timeoutMs: () => (Number.isFinite(deadlineMs) ? deadlineMs - Date.now() : undefined),
    requestMethod: "POST",
    get requestHeader() {
      return (requestHeader ??= headersOf(call.metadata));
    },
    get responseHeader() {
      return (responseHeader ??= new Headers());
    },
    get responseTrailer() {
      return (responseTrailer ??= new Headers());
    },
    protocolName: "grpc",
    values,
    url: `/${service.typeName}/${method.name}`,
    pending: (which) => (which === "header" ? responseHeader : responseTrailer),
    abort(reason) {
      clearTimeout(timer);
      shutdownSignal.removeEventListener("abort", onShutdown);
      // Without a reason AbortController makes a DOMException, stack trace and all: ~40 µs a call.
      if (!controller.signal.aborted) controller.abort(reason ?? CALL_ENDED);
    },
  };
}

function headersOf(metadata: grpc.Metadata): Headers {
  const headers = new Headers();
  for (const [key, value] of Object.entries(metadata.getMap())) {
    headers.set(key, typeof value === "string" ? value : value.toString("base64"));
  }
  return headers;
}

export type { ContextValues };
