import { Code, ConnectError } from "@connectrpc/connect";

/** Response metadata (a trailer on gRPC) with how long to wait before retrying, as access control sends it. */
export const RETRY_AFTER_MS = "retry-after-ms";

/**
 * How many offline streams (reads, training and batch data, dataset creation) each project may
 * have open at once, so one tenant's slow streams cannot hold every DuckDB connection while
 * another tenant's read waits. A stream takes its slot before any work and gives it back when it
 * ends, fails or is cancelled; over the limit the call is refused at once with RESOURCE_EXHAUSTED
 * (it never queues, so a refused caller knows to back off). Projects are counted after
 * authorization, so a caller can only use up the slots of projects it may read.
 */
export class ProjectStreams {
  readonly #max: number;
  readonly #retryAfterMs: number;
  readonly #open = new Map<string, number>();

  /**
   * `retryAfterMs`: the hint sent with a refusal. Streams have no known end, so it is a fixed
   * pause long enough not to spin, short enough for a batch job to get in soon.
   */
  constructor(maxPerProject: number, retryAfterMs = 1000) {
    this.#max = maxPerProject;
    this.#retryAfterMs = retryAfterMs;
  }

  /**
   * Takes a slot of `project` or throws RESOURCE_EXHAUSTED. Returns the release (idempotent);
   * call it in a `finally`. `signal` (the call's) releases too, so a cancelled stream frees its
   * slot even while its generator is parked on a yield that will never be resumed.
   */
  acquire(project: string, signal?: AbortSignal): () => void {
    const open = this.#open.get(project) ?? 0;
    if (open >= this.#max) {
      throw new ConnectError(
        `project "${project}" already has ${open} offline streams open, its limit of ${this.#max}; retry in ${this.#retryAfterMs} ms, or after one of its streams ends`,
        Code.ResourceExhausted,
        { [RETRY_AFTER_MS]: String(this.#retryAfterMs) },
      );
    }
    this.#open.set(project, open + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      signal?.removeEventListener("abort", release);
      const left = (this.#open.get(project) ?? 1) - 1;
      if (left > 0) this.#open.set(project, left);
      else this.#open.delete(project);
    };
    if (signal?.aborted) release();
    else signal?.addEventListener("abort", release, { once: true });
    return release;
  }

  /** Streams of `project` open now. */
  open(project: string): number {
    return this.#open.get(project) ?? 0;
  }
}
