import { AsyncLocalStorage } from "node:async_hooks";

/** What I/O started by a call needs to know about it: when the caller stops waiting, and why it may stop sooner. */
export interface CallDeadline {
  /** Epoch milliseconds; undefined when the caller set no deadline. */
  readonly deadlineMs: number | undefined;
  /** Aborts on the deadline, the caller's cancellation or a forced shutdown. */
  readonly signal: AbortSignal;
}

// Stores (PostgreSQL today) call their driver with a pool, not with the handler context: the call's
// deadline reaches them through the async context instead of through every function in between.
// This file imports nothing else, so a storage lib can read it without loading the server.
const scope = new AsyncLocalStorage<CallDeadline>();

/** Runs `fn` (a whole call: handler and everything it awaits) with `deadline` as the current call's. */
export function runWithCallDeadline<T>(deadline: CallDeadline, fn: () => T): T {
  return scope.run(deadline, fn);
}

/** The deadline of the gRPC call whose work is running now; undefined outside any call (start-up, background loops). */
export function currentCallDeadline(): CallDeadline | undefined {
  return scope.getStore();
}

/**
 * Runs `fn` as background work of no call: timers and promises it starts do not inherit the
 * deadline of the call that happened to trigger it (a health probe started by a failed call must
 * outlive that call).
 */
export function outsideAnyCall<T>(fn: () => T): T {
  return scope.exit(fn);
}
