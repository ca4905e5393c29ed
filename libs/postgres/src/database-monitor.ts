import { outsideAnyCall } from "@granary/server/call-deadline";
import type { Pool } from "pg";
import { isDatabaseReachable } from "./is-database-reachable.js";
import type { PostgresLogger } from "./postgres-logger.js";

export interface DatabaseMonitorOptions {
  /** How often the database is probed while all is well. */
  intervalMs?: number;
  /** Called on every transition: false when the database stops answering, true when it is back. */
  onChange: (up: boolean) => void;
  logger?: Pick<PostgresLogger, "warn" | "info">;
}

export interface DatabaseMonitor {
  readonly up: boolean;
  /** A query just failed as if the database were down: probe now rather than at the next tick. */
  reportFailure(): void;
  stop(): void;
}

/**
 * Watches whether PostgreSQL answers, so a service can report NOT_SERVING while it is gone and
 * SERVING again once it is back. Probes on a timer and at once when a caller saw a failure; while
 * down it probes every half second so recovery is quick.
 */
export function monitorDatabase(pool: Pool, options: DatabaseMonitorOptions): DatabaseMonitor {
  const interval = options.intervalMs ?? 2000;
  let up = true;
  let stopped = false;
  let probing = false;
  let timer: NodeJS.Timeout | undefined;

  const schedule = (ms: number): void => {
    if (stopped) return;
    clearTimeout(timer);
    // reportFailure() runs inside the call that failed; the probes must not carry its deadline.
    timer = setTimeout(() => outsideAnyCall(() => void probe()), ms);
    timer.unref();
  };

  const probe = async (): Promise<void> => {
    if (probing || stopped) return;
    probing = true;
    try {
      const reachable = await isDatabaseReachable(pool, Math.min(interval, 2000));
      if (reachable !== up && !stopped) {
        up = reachable;
        if (up) options.logger?.info({}, "PostgreSQL answers again");
        else options.logger?.warn({}, "PostgreSQL does not answer; reporting NOT_SERVING");
        options.onChange(up);
      }
    } finally {
      probing = false;
      schedule(up ? interval : 500);
    }
  };

  schedule(interval);
  return {
    get up() {
      return up;
    },
    reportFailure() {
      schedule(0);
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
