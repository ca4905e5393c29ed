/**
 * Requests per second per identity, as token buckets: `ratePerSecond` refill, `burst` capacity.
 * `take` is one map lookup and a little arithmetic; it returns 0 when the call may go ahead, else
 * how many milliseconds until a token is free (the caller's retry hint).
 */
export class RateLimiter {
  readonly #rate: number;
  readonly #burst: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, { tokens: number; atMs: number }>();

  constructor(ratePerSecond: number, burst = ratePerSecond * 2, now: () => number = Date.now) {
    this.#rate = ratePerSecond / 1000;
    this.#burst = Math.max(1, burst);
    this.#now = now;
  }

  take(identity: string): number {
    const now = this.#now();
    let bucket = this.#buckets.get(identity);
    if (!bucket) {
      if (this.#buckets.size > 100_000) this.#buckets.clear();
      bucket = { tokens: this.#burst, atMs: now };
      this.#buckets.set(identity, bucket);
    }
    bucket.tokens = Math.min(this.#burst, bucket.tokens + (now - bucket.atMs) * this.#rate);
    bucket.atMs = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - bucket.tokens) / this.#rate);
  }
}
