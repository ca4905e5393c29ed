import { context, metrics, propagation, SpanKind, SpanStatusCode, trace, type Attributes, type Histogram } from "@opentelemetry/api";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { GRPC_STATUS_NAMES, RPC_DURATION_BUCKETS_S } from "@granary/telemetry/semconv";

const tracer = trace.getTracer("granary.client");

let duration: Histogram | undefined;
// The metrics API binds an instrument to the provider registered when it is made: make it at the
// first call, after the process has started its telemetry, not at import.
function clientDuration(): Histogram {
  return (duration ??= metrics.getMeter("granary.client").createHistogram("rpc.client.call.duration", {
    description: "Duration of outgoing RPCs",
    unit: "s",
    advice: { explicitBucketBoundaries: RPC_DURATION_BUCKETS_S },
  }));
}

interface Peer {
  readonly "server.address": string;
  readonly "server.port": number;
}

const peers = new Map<string, Peer | undefined>();

/** server.address and server.port of a call's URL, parsed once per base URL; undefined when it has none. */
function peerOf(url: string): Peer | undefined {
  const slashes = url.indexOf("//");
  const end = slashes < 0 ? -1 : url.indexOf("/", slashes + 2);
  const origin = end < 0 ? url : url.slice(0, end);
  if (peers.has(origin)) return peers.get(origin);
  let peer: Peer | undefined;
  try {
    const u = new URL(origin);
    peer = { "server.address": u.hostname.replace(/^\[|\]$/g, ""), "server.port": u.port ? Number(u.port) : u.protocol === "https:" ? 443 : 80 };
  } catch {
    peer = undefined;
  }
  if (peers.size < 1000) peers.set(origin, peer);
  return peer;
}

/**
 * A CLIENT span per outgoing call, by the OpenTelemetry RPC semantic conventions (semconv 1.45):
 * named `<package.Service>/<Method>`, with rpc.system.name, rpc.method, server.address,
 * server.port and rpc.status_code, plus the histogram rpc.client.call.duration in seconds. The
 * W3C trace context (traceparent, tracestate) goes into the request headers, so a trace follows a
 * request from service to service.
 */
export const traceInterceptor: Interceptor = (next) => async (req) => {
  const method = `${req.service.typeName}/${req.method.name}`;
  const attributes: Attributes = { "rpc.system.name": "grpc", "rpc.method": method, ...peerOf(req.url) };
  // A caller that passes its own traceparent (a proxy, a test) parents the span; else the active context.
  const parent = req.header.has("traceparent")
    ? propagation.extract(context.active(), req.header, { get: (h, k) => h.get(k) ?? undefined, keys: (h) => [...h.keys()] })
    : context.active();
  const span = tracer.startSpan(method, { kind: SpanKind.CLIENT, attributes }, parent);
  const ctx = trace.setSpan(parent, span);
  propagation.inject(ctx, req.header, { set: (headers, key, value) => headers.set(key, value) });
  const started = performance.now();
  let status = "OK";
  try {
    return await context.with(ctx, () => next(req));
  } catch (err) {
    status = statusName(err instanceof ConnectError ? err.code : Code.Unknown);
    // Every code but OK is an error on the client side.
    span.setAttribute("error.type", status);
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
    throw err;
  } finally {
    span.setAttribute("rpc.status_code", status);
    span.end();
    clientDuration().record((performance.now() - started) / 1000, {
      ...attributes,
      "rpc.status_code": status,
      ...(status === "OK" ? {} : { "error.type": status }),
    });
  }
};

/** Connect's codes are gRPC's numbers. */
function statusName(code: Code): string {
  return GRPC_STATUS_NAMES[code] ?? "UNKNOWN";
}
