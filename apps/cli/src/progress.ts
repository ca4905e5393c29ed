import cliProgress from "cli-progress";
import type { Output } from "./context.js";
import { formatCount } from "./output.js";

/** A progress display: a bar when the total is known, a running count otherwise. */
export interface Progress {
  /** `value` in the unit of the total (bytes read, rows); `rows` so far for the rate. */
  update(value: number, rows: number): void;
  stop(): void;
}

const SILENT: Progress = { update() {}, stop() {} };

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
  return {
    update(value, rows) {
      const seconds = (performance.now() - started) / 1000;
      const payload = { rows: formatCount(rows), rate: formatCount(seconds > 0 ? rows / seconds : 0) };
      if (known) bar.update(Math.min(value, options.total!), payload);
      else bar.update(0, payload);
    },
    stop() {
      bar.stop();
    },
  };
}
