import { UnavailableError } from "@granary/errors";
import { errorFromWire } from "./ipc-errors.js";
import { isGranaryMessage, type PrimaryMethod, type ToPrimary, type ToWorker } from "./messages.js";

/** The worker's end of the IPC channel to the primary (process.send / process.on("message")). */
export interface PrimaryChannel {
  send(message: ToPrimary): void;
  onMessage(listener: (message: ToWorker) => void): void;
}

const GONE = "this online worker lost its primary process (the service is stopping); retry on another connection";

/**
 * Calls from a worker to its primary, answered in order of completion. When the channel closes,
 * calls still waiting fail with UNAVAILABLE: a client retries them on another connection.
 */
export class PrimaryCalls {
  readonly #channel: PrimaryChannel;
  readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>();
  #nextId = 1;
  #closed = false;

  constructor(channel: PrimaryChannel) {
    this.#channel = channel;
    channel.onMessage((message) => {
      if (message.granary !== "reply") return;
      const call = this.#pending.get(message.id);
      if (!call) return;
      this.#pending.delete(message.id);
      if (message.error) call.reject(errorFromWire(message.error));
      else call.resolve(message.value);
    });
  }

  call<T>(method: PrimaryMethod, ...args: unknown[]): Promise<T> {
    if (this.#closed) return Promise.reject(new UnavailableError(GONE));
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      try {
        this.#channel.send({ granary: "call", id, method, args });
      } catch (err) {
        this.#pending.delete(id);
        reject(new UnavailableError(GONE, { cause: err }));
      }
    });
  }

  /** The channel closed: fail what waits and refuse what comes. */
  close(): void {
    this.#closed = true;
    for (const call of this.#pending.values()) call.reject(new UnavailableError(GONE));
    this.#pending.clear();
  }
}

/** The channel of the current worker process. */
export function processChannel(): PrimaryChannel {
  return {
    send(message) {
      if (!process.send || !process.connected) throw new Error("no IPC channel to the primary");
      process.send(message);
    },
    onMessage(listener) {
      process.on("message", (message: unknown) => {
        if (isGranaryMessage<ToWorker>(message)) listener(message);
      });
    },
  };
}
