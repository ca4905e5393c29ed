import { Code, ConnectError } from "@connectrpc/connect";

/**
 * The online and offline services learn definitions from the metadata change stream, a few
 * milliseconds after they are written. A handle's first call to each of them retries NOT_FOUND
 * for up to `timeoutMs`, so that create-then-use works; later calls fail at once.
 */
export class CatalogueSync {
  readonly #known = new Set<string>();
  readonly #timeoutMs: number;

  constructor(timeoutMs = 10_000) {
    this.#timeoutMs = timeoutMs;
  }

  async call<T>(service: string, fn: () => Promise<T>): Promise<T> {
    if (this.#known.has(service)) return fn();
    const until = Date.now() + this.#timeoutMs;
    for (let delay = 10; ; delay = Math.min(delay * 2, 500)) {
      try {
        const result = await fn();
        this.#known.add(service);
        return result;
      } catch (err) {
        const code = ConnectError.from(err).code;
        // UNAVAILABLE with a catalogue still loading is retried by the transport for idempotent calls only.
        if ((code !== Code.NotFound && code !== Code.Unavailable) || Date.now() + delay > until) throw err;
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /** Marks a service as knowing the definition (after any call of the handle succeeded there). */
  known(service: string): void {
    this.#known.add(service);
  }
}
