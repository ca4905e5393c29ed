import type { DescMethod, DescService } from "@bufbuild/protobuf";
import {
  context,
  metrics,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Histogram,
  type Span,
  type TextMapGetter,
} from "@opentelemetry/api";
import type * as grpc from "@grpc/grpc-js";
import { GRPC_STATUS_NAMES, RPC_DURATION_BUCKETS_S, isServerError } from "@granary/telemetry/semconv";

const tracer = trace.getTracer("granary.server");

const metadataGetter: TextMapGetter<grpc.Metadata> = {
  keys: (md) => Object.keys(md.getMap()),
  get: (md, key) => {
    const values = md.get(key);
    if (values.length === 0) return undefined;
    return values.map(String);
  },
};

/** The span of one inbound call, parented on the caller's W3C trace context. */
export interface RpcSpan {
  readonly context: Context;
  readonly span: Span;
  end(code: number, error?: unknown): void;
}

/** grpc-js calls carry their headers as Metadata; calls on the HTTP port (connect's router) as Headers. */
export type StartRpcSpan = (service: DescService, method: DescMethod, metadata: grpc.Metadata | Headers) => RpcSpan;

const headersGetter: TextMapGetter<Headers> = {
  keys: (h) => [...h.keys()],
  get: (h, key) => h.get(key) ?? undefined,
};

/** The attribute sets of one method, made once: a call allocates none. */
interface MethodAttributes {
  readonly name: string;
  readonly span: Attributes;
  /** By gRPC status code: what rpc.server.call.duration is recorded with. */
  readonly byCode: Attributes[];
}

/**
 * Creates the per-server RPC instrumentation, by the OpenTelemetry RPC semantic conventions
 * (semconv 1.45, stable): a SERVER span named `<package.Service>/<Method>` with rpc.system.name,
 * rpc.method (fully qualified) and rpc.status_code, and the histogram rpc.server.call.duration in
 * seconds. Call after the telemetry SDK has started: the metrics API binds instruments to the
 * provider registered at creation time.
 */
export function createRpcTelemetry(): StartRpcSpan {
  const duration = metrics.getMeter("granary.server").createHistogram("rpc.server.call.duration", {
    description: "Duration of inbound RPCs",
    unit: "s",
    advice: { explicitBucketBoundaries: RPC_DURATION_BUCKETS_S },
  });
  const cache = new WeakMap<DescMethod, MethodAttributes>();
  const attributesOf = (method: DescMethod): MethodAttributes => {
    let known = cache.get(method);
    if (!known) cache.set(method, (known = methodAttributes(method)));
    return known;
  };
  return (_service, method, metadata) => startRpcSpan(attributesOf(method), metadata, duration);
}

function methodAttributes(method: DescMethod): MethodAttributes {
  const name = `${method.parent.typeName}/${method.name}`;
  const span = { "rpc.system.name": "grpc", "rpc.method": name };
  const byCode = GRPC_STATUS_NAMES.map((status, code) => ({
    ...span,
    "rpc.status_code": status,
    ...(isServerError(code) ? { "error.type": status } : {}),
  }));
  return { name, span, byCode };
}

function startRpcSpan(method: MethodAttributes, metadata: grpc.Metadata | Headers, duration: Histogram): RpcSpan {
  const parent =
    metadata instanceof Headers ? propagation.extract(ROOT_CONTEXT, metadata, headersGetter) : propagation.extract(ROOT_CONTEXT, metadata, metadataGetter);
  const span = tracer.startSpan(method.name, { kind: SpanKind.SERVER, attributes: method.span }, parent);
  const started = performance.now();
  return {
    context: trace.setSpan(parent, span),
    span,
    end(code, error) {
      const attributes = method.byCode[code] ?? method.byCode[2]!;
      span.setAttribute("rpc.status_code", attributes["rpc.status_code"]!);
      // By the gRPC conventions a server span is an error only for the codes that mean the
      // server failed; NOT_FOUND, INVALID_ARGUMENT… are the caller's, and leave the status unset.
      if (isServerError(code)) {
        span.setAttribute("error.type", attributes["error.type"]!);
        span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : undefined });
      }
      span.end();
      duration.record((performance.now() - started) / 1000, attributes);
    },
  };
}

export function runInContext<T>(ctx: Context, fn: () => T): T {
  return context.with(ctx, fn);
}
