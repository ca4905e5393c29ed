import cliProgress from "cli-progress";
import type { Output } from "./context.js";
import { formatCount } from "./output.js";

/** A progress display: a bar when the total is known, a running count otherwise. */
export interface Progress {
  /** `value` in the unit of the total (bytes read, rows); `rows` so far for the rate. */
  update(value: number, rows: number): void;
  /**
   * The data is all sent and the server is finishing (an insert's commit): the bar gives way to
   * `what` with the time it has taken so far, so a long commit does not look like a hang at 100 %.
   */
  phase(what: string): void;
  stop(): void;
}

const SILENT: Progress = { update() {}, phase() {}, stop() {} };

/** A bar on stderr; nothing at all when stderr is not a terminal or --no-progress was given. */
export function createProgress(output: Output, options: { label: string; total?: number }): Progress {
  if (!output.interactive) return SILENT;
  const started = performance.now();
  const known = options.total !== undefined && options.total > 0;
  const bar = new cliProgress.SingleBar(
    {
      format: known
        ? `${options.label} [{bar}] {percentage}% | {rows} rows | {rate} rows/s | ETA {eta_formatted}`
        : `${options.label} {rows} rows | {rate} rows/s | {duration_formatted}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
      barsize: 30,
      fps: 10,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(known ? options.total! : 1, 0, { rows: "0", rate: "0" });
  let lastRows = 0;
  let second: { bar: cliProgress.SingleBar; timer: NodeJS.Timeout } | undefined;
  return {
    update(value, rows) {
      if (second) return;
      lastRows = rows;
      const seconds = (performance.now() - started) / 1000;
      const payload = { rows: formatCount(rows), rate: formatCount(seconds > 0 ? rows / seconds : 0) };
      if (known) bar.update(Math.min(value, options.total!), payload);
      else bar.update(0, payload);
    },
    phase(what) {
      if (second) return;
      bar.stop();
      const since = performance.now();
      const next = new cliProgress.SingleBar(
        {
          format: `${options.label} ${formatCount(lastRows)} rows sent, ${what} {elapsed} s`,
          stream: process.stderr,
          hideCursor: true,
          clearOnComplete: true,
          fps: 10,
        },
        cliProgress.Presets.shades_classic,
      );
      next.start(1, 0, { elapsed: "0.0" });
      const timer = setInterval(() => next.update(0, { elapsed: ((performance.now() - since) / 1000).toFixed(1) }), 100);
      timer.unref();
      second = { bar: next, timer };
    },
    stop() {
      bar.stop();
      if (second) {
        clearInterval(second.timer);
        second.bar.stop();
      }
    },
  };
}
