import type { Client } from "@connectrpc/connect";
import type { AuditEvent, MetadataService } from "@granary/proto/metadata";
import type { AuditLogger } from "./access-control.js";

const FLUSH_MS = 1000;
const MAX_QUEUED = 10_000;

/**
 * Sends the audit events of online, offline and registry to the metadata service, which keeps the
 * audit log, in batches once a second. While metadata is unreachable events wait in memory (up to
 * 10,000; beyond that the oldest are dropped with a warning — the structured log line of every
 * event is written regardless).
 */
export class AuditForwarder {
  readonly #client: Client<typeof MetadataService>;
  readonly #logger: AuditLogger;
  #queue: AuditEvent[] = [];
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;

  constructor(client: Client<typeof MetadataService>, logger: AuditLogger) {
    this.#client = client;
    this.#logger = logger;
  }

  readonly push = (event: AuditEvent): void => {
    if (this.#queue.length >= MAX_QUEUED) {
      this.#queue.shift();
      this.#logger.warn({ queued: this.#queue.length }, "audit events cannot reach the metadata service; dropping the oldest");
    }
    this.#queue.push(event);
    this.#timer ??= setTimeout(() => void this.flush(), FLUSH_MS).unref();
  };

  /** Sends what is queued; on failure keeps it for the next attempt. */
  async flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#flushing;
    if (this.#queue.length === 0) return;
    const batch = this.#queue;
    this.#queue = [];
    this.#flushing = this.#client.recordAuditEvents({ events: batch }, { timeoutMs: 5000 }).then(
      () => undefined,
      (err: unknown) => {
        this.#queue = [...batch, ...this.#queue].slice(-MAX_QUEUED);
        this.#logger.warn(
          { err: err instanceof Error ? err.message : String(err), queued: this.#queue.length },
          "cannot send audit events to the metadata service; retrying",
        );
        this.#timer ??= setTimeout(() => void this.flush(), FLUSH_MS * 5).unref();
      },
    );
    await this.#flushing;
  }
}
