import { DataLossError, UnavailableError } from "@granary/errors";
import { PoisonMessageError, decodeMessage } from "./log-message.js";
import type { LogSubjects } from "./subjects.js";
import type { FollowHandler, FollowOptions, Follower, LogEntry, RawLogMessage } from "./write-log.js";

/** A stored message, as an adapter reads it. */
export type StoredMessage = RawLogMessage & { readonly sequence: bigint };

/**
 * The messages of the log after `position()`, in order, until `signal` aborts; an adapter's source
 * resumes by itself after an outage, from the position at that moment.
 */
export type MessageSource = (position: () => bigint, signal: AbortSignal) => AsyncIterable<StoredMessage>;

export interface DeliveryDeps {
  readonly subjects: LogSubjects;
  readonly deadLetter: (message: RawLogMessage, reason: string) => Promise<void>;
}

/**
 * Decodes a stored message; an undecodable one goes to the dead letters (retried while the log is
 * unavailable, until `signal` aborts) and comes back as its reason.
 */
export async function decodeOrDeadLetter(message: StoredMessage, deps: DeliveryDeps, signal?: AbortSignal): Promise<LogEntry | { deadReason: string }> {
  try {
    return decodeMessage(message, deps.subjects);
  } catch (err) {
    if (!(err instanceof PoisonMessageError)) throw err;
    await whileUnavailable(() => deps.deadLetter(message, err.message), signal);
    return { deadReason: err.message };
  }
}

/**
 * One follow loop for every adapter: order, skipping what was already delivered, dead letters,
 * stop. `contiguous` when every sequence of the log is expected (no subject filter).
 */
export function startFollower(
  source: MessageSource,
  from: bigint,
  handler: FollowHandler,
  options: FollowOptions & { readonly contiguous: boolean },
  deps: DeliveryDeps,
): Follower {
  const stop = new AbortController();
  let position = from;
  const run = async (): Promise<void> => {
    for await (const message of source(() => position, stop.signal)) {
      if (stop.signal.aborted) return;
      // A source recreated after an outage may hand over again what it had already delivered.
      if (message.sequence <= position) continue;
      // Following every subject, each sequence comes: a gap means retention removed messages before
      // they were delivered (an outage longer than the log keeps them).
      if (options.contiguous && message.sequence !== position + 1n) {
        throw new DataLossError(
          `the write log skipped from sequence ${position} to ${message.sequence}: messages in between are gone (retention); bootstrap this replica from a snapshot`,
        );
      }
      const decoded = await decodeOrDeadLetter(message, deps, stop.signal);
      if (stop.signal.aborted) return;
      if ("deadReason" in decoded) {
        await options.onDeadLetter?.(message.sequence, decoded.deadReason);
      } else {
        await handler(decoded);
      }
      position = message.sequence;
    }
  };
  const done = run().finally(() => stop.abort());
  // The caller may only look at `done` when stopping; an unobserved failure must not end the process.
  done.catch(() => {});
  return {
    get position() {
      return position;
    },
    done,
    async stop() {
      stop.abort();
      await done.catch(() => {});
    },
  };
}

/** Runs `fn` until it stops failing with UNAVAILABLE, backing off up to 2 s; gives up when `signal` aborts. */
export async function whileUnavailable<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  let delay = 50;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof UnavailableError) || signal === undefined || signal.aborted) throw err;
      await sleep(delay, signal);
      if (signal.aborted) throw err;
      delay = Math.min(delay * 2, 2000);
    }
  }
}

/** Resolves after `ms` or as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}
