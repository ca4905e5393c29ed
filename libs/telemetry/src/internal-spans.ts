import { SpanStatusCode, trace, type Attributes, type Span } from "@opentelemetry/api";

/**
 * Runs `fn` inside an INTERNAL span, a child of the active one (the RPC's server span inside a
 * call): what a phase took (a DuckDB query, an LMDB batch, a commit, a push), its size as
 * attributes `fn` adds, and the error it ended with.
 */
export async function inSpan<T>(scope: string, name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
  return trace.getTracer(scope).startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      failed(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

/**
 * inSpan for synchronous work that makes no spans of its own (the online lookup's LMDB reads): the
 * span is not made active, which would cost a context switch per call on the hot path.
 */
export function inSpanSync<T>(scope: string, name: string, attributes: Attributes, fn: (span: Span) => T): T {
  const span = trace.getTracer(scope).startSpan(name, { attributes });
  try {
    return fn(span);
  } catch (err) {
    failed(span, err);
    throw err;
  } finally {
    span.end();
  }
}

function failed(span: Span, err: unknown): void {
  span.setAttribute("error.type", err instanceof Error ? err.constructor.name : "Error");
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
}

/**
 * An instrument (or a set of them) made at first use, not at import: the metrics API binds an
 * instrument to the provider registered when it is made, and a module is imported before
 * the process starts its telemetry.
 */
export function lazily<T>(make: () => T): () => T {
  let made: T | undefined;
  return () => (made ??= make());
}
