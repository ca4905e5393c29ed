import { context, propagation, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { ConnectError, type Interceptor } from "@connectrpc/connect";

const tracer = trace.getTracer("granary.client");

/**
 * A client span per outgoing call, with the W3C trace context (traceparent, tracestate) written
 * into the request headers, so a trace follows a request from service to service.
 */
export const traceInterceptor: Interceptor = (next) => async (req) => {
  const attributes = { "rpc.system": "grpc", "rpc.service": req.service.typeName, "rpc.method": req.method.name };
  // A caller that passes its own traceparent (a proxy, a test) parents the span; else the active context.
  const parent = req.header.has("traceparent")
    ? propagation.extract(context.active(), req.header, { get: (h, k) => h.get(k) ?? undefined, keys: (h) => [...h.keys()] })
    : context.active();
  const span = tracer.startSpan(`${req.service.typeName}/${req.method.name}`, { kind: SpanKind.CLIENT, attributes }, parent);
  const ctx = trace.setSpan(parent, span);
  propagation.inject(ctx, req.header, { set: (headers, key, value) => headers.set(key, value) });
  try {
    const res = await context.with(ctx, () => next(req));
    span.setAttribute("rpc.grpc.status_code", 0);
    return res;
  } catch (err) {
    const code = err instanceof ConnectError ? err.code : 2;
    span.setAttribute("rpc.grpc.status_code", code);
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
    throw err;
  } finally {
    span.end();
  }
};
