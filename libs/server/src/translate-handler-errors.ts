/**
 * Wraps every handler so that what a storage driver throws reaches the error mapper as a typed
 * error (a PostgreSQL unique violation → ALREADY_EXISTS, connection lost → UNAVAILABLE, …). Works
 * for unary, client-streaming and server-streaming (async generator) handlers alike.
 */
export function translateHandlerErrors<T extends object>(handlers: T, translate: (err: unknown) => unknown): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, handler] of Object.entries(handlers)) {
    if (typeof handler !== "function") continue;
    const fn = handler as (...args: unknown[]) => unknown;
    wrapped[name] = isAsyncGeneratorFunction(fn)
      ? async function* (...args: unknown[]) {
          try {
            yield* fn(...args) as AsyncGenerator<unknown>;
          } catch (err) {
            throw translate(err);
          }
        }
      : async (...args: unknown[]) => {
          try {
            return await fn(...args);
          } catch (err) {
            throw translate(err);
          }
        };
  }
  return wrapped as T;
}

function isAsyncGeneratorFunction(fn: unknown): boolean {
  return Object.prototype.toString.call(fn) === "[object AsyncGeneratorFunction]";
}
