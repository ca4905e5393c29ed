import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

export interface RetryOptions {
  /** Attempts in all, the first included (default 4). */
  readonly attempts?: number;
  /** Delay before the first retry; doubled each time, with jitter (default 100 ms). */
  readonly initialDelayMs?: number;
  /** Ceiling of one delay (default 2 s). */
  readonly maxDelayMs?: number;
}

/** Calls that change nothing, or that give the same result when repeated: safe to retry. */
const IDEMPOTENT = /^(Get|List|Search|Read|Check|Watch|ComputeStatistics|SetAlias|DeleteAlias|CreateProject|CreateFeatureGroup|CreateFeatureView|CreateModel$)/;

export function isIdempotent(method: string): boolean {
  return IDEMPOTENT.test(method);
}

/** The delay before retry number `retry` (1-based): exponential, capped, with full jitter in its upper half. */
export function backoffDelay(retry: number, options: RetryOptions = {}, random = Math.random): number {
  const initial = options.initialDelayMs ?? 100;
  const max = options.maxDelayMs ?? 2_000;
  const ceiling = Math.min(max, initial * 2 ** (retry - 1));
  return ceiling / 2 + random() * (ceiling / 2);
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });

/**
 * Retries idempotent unary calls that fail with UNAVAILABLE (a service restarting, a connection
 * reset), with exponential backoff, within the call's own deadline. Streams are retried by the
 * methods that read them, before their first message.
 */
export function retryInterceptor(options: RetryOptions = {}): Interceptor {
  const attempts = Math.max(1, options.attempts ?? 4);
  return (next) => async (req) => {
    if (req.stream || !isIdempotent(req.method.name)) return next(req);
    for (let attempt = 1; ; attempt++) {
      try {
        return await next(req);
      } catch (err) {
        const code = ConnectError.from(err).code;
        if (code !== Code.Unavailable || attempt >= attempts || req.signal.aborted) throw err;
        await sleep(backoffDelay(attempt, options), req.signal);
      }
    }
  };
}

/** Sends the API key on every call, as `authorization: Bearer <key>`. */
export function apiKeyInterceptor(apiKey: string): Interceptor {
  return (next) => (req) => {
    req.header.set("authorization", `Bearer ${apiKey}`);
    return next(req);
  };
}

/**
 * Adds `hint` (which key was sent, or where keys are looked for) to UNAUTHENTICATED errors, of unary
 * calls and of streams alike. The server's own error stays the `cause`.
 */
export function unauthenticatedHintInterceptor(hint: string): Interceptor {
  const explain = (err: unknown): unknown => {
    const e = ConnectError.from(err);
    if (e.code !== Code.Unauthenticated) return err;
    const explained = new ConnectError(`${e.rawMessage} (${hint})`, e.code, e.metadata, undefined, e);
    explained.details = e.details;
    return explained;
  };
  async function* explaining<T>(messages: AsyncIterable<T>): AsyncGenerator<T> {
    try {
      yield* messages;
    } catch (err) {
      throw explain(err);
    }
  }
  return (next) => async (req) => {
    try {
      const res = await next(req);
      return res.stream ? { ...res, message: explaining(res.message) } : res;
    } catch (err) {
      throw explain(err);
    }
  };
}

/** Runs `open` again when it fails with UNAVAILABLE before yielding anything (server-streaming reads). */
export async function* retryStream<T>(open: () => AsyncIterable<T>, options: RetryOptions = {}): AsyncGenerator<T> {
  const attempts = Math.max(1, options.attempts ?? 4);
  for (let attempt = 1; ; attempt++) {
    let yielded = false;
    try {
      for await (const item of open()) {
        yielded = true;
        yield item;
      }
      return;
    } catch (err) {
      if (yielded || ConnectError.from(err).code !== Code.Unavailable || attempt >= attempts) throw err;
      await sleep(backoffDelay(attempt, options));
    }
  }
}
