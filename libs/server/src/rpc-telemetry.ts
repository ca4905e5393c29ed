import type { DescMethod, DescService } from "@bufbuild/protobuf";
import {
  context,
  metrics,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Histogram,
  type Span,
  type TextMapGetter,
} from "@opentelemetry/api";
import type * as grpc from "@grpc/grpc-js";

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

/**
 * Creates the per-server RPC instrumentation. Call after the telemetry SDK has started: the metrics
 * API binds instruments to the provider registered at creation time.
 */
export function createRpcTelemetry(): StartRpcSpan {
  // rpc.server.duration, as the OpenTelemetry RPC semantic conventions name it, in milliseconds.
  const duration = metrics.getMeter("granary.server").createHistogram("rpc.server.duration", {
    description: "Duration of inbound RPCs",
    unit: "ms",
  });
  return (service, method, metadata) => startRpcSpan(service, method, metadata, duration);
}

function startRpcSpan(service: DescService, method: DescMethod, metadata: grpc.Metadata | Headers, duration: Histogram): RpcSpan {
  const parent =
    metadata instanceof Headers ? propagation.extract(ROOT_CONTEXT, metadata, headersGetter) : propagation.extract(ROOT_CONTEXT, metadata, metadataGetter);
  const attributes = { "rpc.system": "grpc", "rpc.service": service.typeName, "rpc.method": method.name };
  const span = tracer.startSpan(`${service.typeName}/${method.name}`, { kind: SpanKind.SERVER, attributes }, parent);
  const started = performance.now();
  return {
    context: trace.setSpan(parent, span),
    span,
    end(code, error) {
      span.setAttribute("rpc.grpc.status_code", code);
      if (code !== 0) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : undefined });
      }
      span.end();
      duration.record(performance.now() - started, { ...attributes, "rpc.grpc.status_code": code });
    },
  };
}

export function runInContext<T>(ctx: Context, fn: () => T): T {
  return context.with(ctx, fn);
}
