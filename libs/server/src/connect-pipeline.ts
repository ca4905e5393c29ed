import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type Interceptor, type StreamResponse } from "@connectrpc/connect";
import type { AccessControl, Principal } from "@granary/auth";
import type { Logger } from "@granary/telemetry";
import { runWithCallDeadline, type CallDeadline } from "./call-deadline.js";
import { admit, admitted, auditCall, errorToSend, guardFor, logFailure, type Guard } from "./call-guard.js";
import { validateRequest } from "./request-validator.js";
import { principalKey } from "./rpc-context.js";
import { runInContext, type RpcSpan, type StartRpcSpan } from "./rpc-telemetry.js";

export interface ConnectPipelineOptions {
  readonly access: AccessControl;
  readonly logger: Logger;
  /** Trace span and rpc.server.call.duration per call (the HTTP port); the in-process transport has none. */
  readonly startSpan?: StartRpcSpan;
  /**
   * The server's calls in flight, each as a function ending it at once with UNAVAILABLE (what
   * shutdown calls when its grace period is over): the HTTP port shares the gRPC port's set.
   */
  readonly inFlight?: Set<() => void>;
}

/**
 * The call pipeline as a connect interceptor, for every surface served by connect's router: the
 * in-process transport and the HTTP port (Connect, gRPC-Web, gRPC over HTTP/1.1 and h2). The same
 * steps as the grpc-js adapter, from call-guard.ts: the principal from the `authorization` header,
 * the permission table and the authorizer, protovalidate with the enum and time checks, the
 * deadline in the async context, audit, and the one error mapping.
 */
export function connectPipeline(options: ConnectPipelineOptions): Interceptor {
  const { access, logger, startSpan, inFlight } = options;
  const guards = new Map<string, Guard>();
  return (next) => async (req) => {
    const path = `${req.service.typeName}/${req.method.name}`;
    let guard = guards.get(path);
    if (!guard) guards.set(path, (guard = guardFor(access, req.service, req.method)));
    const rpc = startSpan?.(req.service, req.method, req.header);
    // A call ended by shutdown: the handler's signal aborts with UNAVAILABLE, which connect sends.
    const abortable = new AbortController();
    const signal = AbortSignal.any([req.signal, abortable.signal]);
    const endForShutdown = () => abortable.abort(new ConnectError("server is shutting down; retry", Code.Unavailable));
    inFlight?.add(endForShutdown);
    // A handler that ignores its signal must not hold the call past shutdown: its status is sent
    // when the call is ended, whatever the handler does afterwards (as on the gRPC port).
    const ended = inFlight ? endedBy(abortable.signal) : undefined;
    const deadline: CallDeadline = { deadlineMs: deadlineOf(req.header), signal };
    const values = req.contextValues;
    let principal: Principal | undefined;
    const fail = (err: unknown) => {
      const sent = errorToSend(err, signal);
      rpc?.end(sent.code, sent);
      withSpan(rpc, () => logFailure(logger, path, sent, err));
      if (principal && sent.code !== Code.Unauthenticated) auditCall(guard, principal, values, sent.code);
      return sent;
    };
    const succeeded = () => {
      rpc?.end(0);
      auditCall(guard, principal!, values, 0);
    };
    try {
      const res = await withSpan(rpc, () =>
        runWithCallDeadline(deadline, async () => {
          const found = access.authenticate(req.header.get("authorization") ?? undefined);
          principal = found instanceof Promise ? await found : found;
          values.set(principalKey, principal);
          if (req.stream) {
            // Every streaming kind: the handler (or connect, for a server stream's one request) reads this.
            return raced(next({ ...req, signal, message: admitted(guard, principal, req.method, req.message, values, asMessage) }), ended);
          }
          await admit(guard, principal, req.message, values);
          validateRequest(req.method.input, req.message);
          return raced(next({ ...req, signal }), ended);
        }),
      );
      if (!res.stream) {
        inFlight?.delete(endForShutdown);
        succeeded();
        return res;
      }
      return { ...res, message: responses(res, deadline, rpc, ended, succeeded, fail, () => inFlight?.delete(endForShutdown)) };
    } catch (err) {
      inFlight?.delete(endForShutdown);
      throw fail(err);
    }
  };
}

function withSpan<T>(rpc: RpcSpan | undefined, fn: () => T): T {
  return rpc ? runInContext(rpc.context, fn) : fn();
}

/** A stream's responses, read within the call's deadline, its failure mapped as a unary call's is. */
async function* responses(
  res: StreamResponse,
  deadline: CallDeadline,
  rpc: RpcSpan | undefined,
  ended: Promise<never> | undefined,
  succeeded: () => void,
  fail: (err: unknown) => Error,
  finished: () => void,
): AsyncGenerator<MessageShape<DescMessage>> {
  const it = res.message[Symbol.asyncIterator]();
  let done = false;
  try {
    for (;;) {
      const next = await raced(
        withSpan(rpc, () => runWithCallDeadline(deadline, () => it.next())),
        ended,
      );
      if (next.done) break;
      deadline.signal.throwIfAborted();
      yield next.value;
    }
    done = true;
  } catch (err) {
    done = true;
    throw fail(err);
  } finally {
    finished();
    // The caller stopped reading early: let the handler's generator clean up.
    if (!done) await it.return?.();
  }
  succeeded();
}

/** Rejects with the signal's reason once it aborts; never settles otherwise. */
function endedBy(signal: AbortSignal): Promise<never> {
  const ended = new Promise<never>((_, reject) => signal.addEventListener("abort", () => reject(signal.reason as Error), { once: true }));
  ended.catch(() => {});
  return ended;
}

function raced<T>(work: Promise<T>, ended: Promise<never> | undefined): Promise<T> {
  return ended ? Promise.race([work, ended]) : work;
}

function asMessage(message: unknown): MessageShape<DescMessage> {
  return message as MessageShape<DescMessage>;
}

const GRPC_TIMEOUT_UNITS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

/**
 * When the caller stops waiting: the Connect protocol sends `connect-timeout-ms`, gRPC and
 * gRPC-Web `grpc-timeout` (digits and a unit). connect's router has checked both already.
 */
export function deadlineOf(header: Headers): number | undefined {
  const connect = header.get("connect-timeout-ms");
  if (connect !== null) return Date.now() + Number(connect);
  const grpc = header.get("grpc-timeout");
  const match = grpc === null ? null : /^(\d{1,8})([HMSmun])$/.exec(grpc);
  return match ? Date.now() + Number(match[1]) * GRPC_TIMEOUT_UNITS[match[2]!]! : undefined;
}
