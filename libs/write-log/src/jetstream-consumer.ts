import { UnavailableError, type GranaryError } from "@granary/errors";
import type { Consumer, JsMsg } from "@nats-io/jetstream";
import { decodeOrDeadLetter, type DeliveryDeps } from "./follower.js";
import { storedOf } from "./nats-messages.js";
import type { ConsumedBatch, FetchOptions, LogConsumer, LogEntry } from "./write-log.js";

export interface JetStreamConsumerDeps {
  readonly name: string;
  readonly consumer: Consumer;
  readonly delivery: DeliveryDeps;
  readonly translate: (err: unknown, doing: string) => GranaryError;
  readonly checkUsable: (doing: string) => void;
  readonly timeoutMs: number;
  readonly onClose: () => void;
}

/** The shortest pull request @nats-io/jetstream 3.4 makes (it refuses shorter `expires`). */
const MIN_PULL_MS = 1000;

/**
 * A durable explicit-ack pull consumer. Each fetch is one pull request for maxMessages that ends
 * when they have arrived or the request expires, so nothing is ever delivered to this process
 * outside a fetch: what a fetch returns is all that is outstanding. A pull lasts at least 1 s
 * (the client's floor), so maxWaitMs under 1000 waits 1 s when fewer than maxMessages are there.
 * On close, what was fetched and not acknowledged is released for delivery again at once.
 */
export class JetStreamConsumer implements LogConsumer {
  readonly #deps: JetStreamConsumerDeps;
  /** Fetched, neither acknowledged nor released. */
  readonly #outstanding = new Set<JsMsg>();
  #closed = false;
  #fetching: Promise<unknown> = Promise.resolve();

  constructor(deps: JetStreamConsumerDeps) {
    this.#deps = deps;
  }

  fetch(options: FetchOptions): Promise<ConsumedBatch> {
    // One pull at a time: a second would compete with the first for the same messages.
    const next = this.#fetching.catch(() => {}).then(() => this.#fetch(options));
    this.#fetching = next;
    return next;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#fetching.catch(() => {});
    this.#release([...this.#outstanding]);
    this.#deps.onClose();
  }

  async #fetch(options: FetchOptions): Promise<ConsumedBatch> {
    const doing = `fetching from consumer "${this.#deps.name}"`;
    if (this.#closed) throw new UnavailableError(`${doing}: the consumer is closed`);
    this.#deps.checkUsable(doing);
    const picked: JsMsg[] = [];
    try {
      const messages = await this.#deps.consumer.fetch({ max_messages: options.maxMessages, expires: Math.max(MIN_PULL_MS, options.maxWaitMs) });
      for await (const m of messages) {
        picked.push(m);
        this.#outstanding.add(m);
      }
    } catch (err) {
      this.#release(picked);
      throw this.#deps.translate(err, doing);
    }
    const entries: LogEntry[] = [];
    try {
      for (const m of picked) {
        const decoded = await decodeOrDeadLetter(storedOf(m), this.#deps.delivery);
        if (!("deadReason" in decoded)) entries.push(decoded);
      }
    } catch (err) {
      this.#release(picked);
      throw err;
    }
    return { entries, ack: () => this.#ack(picked), nak: async () => this.#release(picked) };
  }

  async #ack(messages: readonly JsMsg[]): Promise<void> {
    const doing = `acknowledging ${messages.length} messages of consumer "${this.#deps.name}"`;
    this.#deps.checkUsable(doing);
    try {
      // Each ack confirmed by the server: a lost ack would deliver the batch again after ackWait.
      await Promise.all(messages.map((m) => m.ackAck({ timeout: this.#deps.timeoutMs })));
    } catch (err) {
      throw this.#deps.translate(err, doing);
    } finally {
      for (const m of messages) this.#outstanding.delete(m);
    }
  }

  /** A released message is delivered again at once (a nak lost with the connection: after ackWait). */
  #release(messages: readonly JsMsg[]): void {
    for (const m of messages) {
      if (this.#outstanding.delete(m)) m.nak();
    }
  }
}
